import pytorch_lightning as pl
import torch
import torch.nn as nn
import torch.nn.functional as F


class EMAQuantizer(nn.Module):
    """Vector quantiser whose codebook is learnt by exponential moving averages (VQ-VAE-2 style)."""

    def __init__(self, n_codes=512, dim=64, decay=0.99, eps=1e-5):
        super().__init__()
        self.decay, self.eps = decay, eps
        embed = torch.randn(n_codes, dim)
        self.register_buffer("codebook", embed)
        self.register_buffer("cluster_size", torch.zeros(n_codes))
        self.register_buffer("embed_sum", embed.clone())

    @torch.no_grad()
    def _ema_update(self, flat, onehot):
        self.cluster_size.mul_(self.decay).add_(onehot.sum(0), alpha=1 - self.decay)
        self.embed_sum.mul_(self.decay).add_(onehot.t() @ flat, alpha=1 - self.decay)
        n = self.cluster_size.sum()
        size = (self.cluster_size + self.eps) / (n + self.codebook.size(0) * self.eps) * n
        self.codebook.copy_(self.embed_sum / size.unsqueeze(1))

    def forward(self, z):
        flat = z.permute(0, 2, 3, 1).reshape(-1, z.size(1))
        dist = flat.pow(2).sum(1, keepdim=True) - 2 * flat @ self.codebook.t() + self.codebook.pow(2).sum(1)
        idx = dist.argmin(1)
        onehot = F.one_hot(idx, self.codebook.size(0)).type(flat.dtype)
        if self.training:
            self._ema_update(flat, onehot)
        q = self.codebook[idx].view(z.size(0), z.size(2), z.size(3), -1).permute(0, 3, 1, 2)
        commit = F.mse_loss(z, q.detach())
        q = z + (q - z).detach()
        perplexity = torch.exp(-(onehot.mean(0) * torch.log(onehot.mean(0) + 1e-10)).sum())
        return q, commit, perplexity, idx


def res_stack(ch, n=2):
    return nn.Sequential(*[nn.Sequential(nn.ReLU(), nn.Conv2d(ch, ch // 2, 3, padding=1), nn.BatchNorm2d(ch // 2),
                                         nn.ReLU(), nn.Conv2d(ch // 2, ch, 1)) for _ in range(n)])


class LitVQVAE(pl.LightningModule):
    def __init__(self, ch=128, code_dim=64, n_codes=512, beta=0.25, lr=2e-4):
        super().__init__()
        self.save_hyperparameters()
        self.encoder = nn.Sequential(
            nn.Conv2d(3, ch // 2, 4, 2, 1), nn.ReLU(), nn.Conv2d(ch // 2, ch, 4, 2, 1), nn.BatchNorm2d(ch),
            res_stack(ch), nn.Conv2d(ch, code_dim, 1))
        self.quant = EMAQuantizer(n_codes, code_dim)
        self.decoder = nn.Sequential(
            nn.Conv2d(code_dim, ch, 3, padding=1), res_stack(ch), nn.ReLU(),
            nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1), nn.BatchNorm2d(ch // 2), nn.ReLU(),
            nn.ConvTranspose2d(ch // 2, 3, 4, 2, 1))

    def forward(self, x):
        q, commit, ppl, _ = self.quant(self.encoder(x))
        return self.decoder(q), commit, ppl

    def training_step(self, batch, batch_idx):
        x, _ = batch
        recon, commit, ppl = self(x)
        rec = F.mse_loss(recon, x)
        loss = rec + self.hparams.beta * commit
        self.log_dict({"train/rec": rec, "train/commit": commit, "train/ppl": ppl}, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, _ = batch
        recon, commit, ppl = self(x)
        self.log_dict({"val/rec": F.mse_loss(recon, x), "val/ppl": ppl}, sync_dist=True)
        if batch_idx == 0 and isinstance(self.logger, pl.loggers.TensorBoardLogger):
            self.logger.experiment.add_images("val/recon", recon[:16].clamp(0, 1), self.global_step)

    def test_step(self, batch, batch_idx):
        x, _ = batch
        recon, _, _ = self(x)
        self.log("test/rec", F.mse_loss(recon, x))

    def configure_optimizers(self):
        params = list(self.encoder.parameters()) + list(self.decoder.parameters())
        return torch.optim.Adam(params, lr=self.hparams.lr, amsgrad=True)


if __name__ == "__main__":
    from cifar_dm import CIFAR10DataModule

    dm = CIFAR10DataModule("data", batch_size=256)
    model = LitVQVAE()
    trainer = pl.Trainer(max_epochs=100, accelerator="gpu", devices=1, check_val_every_n_epoch=2)
    trainer.fit(model, dm)
    trainer.test(model, datamodule=dm)
