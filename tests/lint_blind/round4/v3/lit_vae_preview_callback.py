import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from lightning.pytorch.loggers import TensorBoardLogger

from celeba_dm import CelebADataModule


class ConvVAE(pl.LightningModule):
    def __init__(self, z_dim=128, beta=1.0, lr=3e-4, p_drop=0.1):
        super().__init__()
        self.save_hyperparameters()
        self.enc = nn.Sequential(
            nn.Conv2d(3, 32, 4, 2, 1), nn.BatchNorm2d(32), nn.LeakyReLU(0.2),
            nn.Conv2d(32, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.LeakyReLU(0.2),
            nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Dropout(p_drop),
        )
        self.mu = nn.Linear(128 * 8 * 8, z_dim)
        self.logvar = nn.Linear(128 * 8 * 8, z_dim)
        self.dec_in = nn.Linear(z_dim, 128 * 8 * 8)
        self.dec = nn.Sequential(
            nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
            nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.ConvTranspose2d(32, 3, 4, 2, 1), nn.Sigmoid(),
        )

    def decode(self, z):
        return self.dec(self.dec_in(z).view(-1, 128, 8, 8))

    def forward(self, x):
        h = self.enc(x)
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decode(z), mu, logvar

    def _loss(self, x):
        recon, mu, logvar = self(x)
        rec = F.binary_cross_entropy(recon, x, reduction="sum") / x.size(0)
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / x.size(0)
        return rec + self.hparams.beta * kl, rec, kl

    def training_step(self, batch, batch_idx):
        loss, rec, kl = self._loss(batch[0])
        self.log_dict({"train/loss": loss, "train/rec": rec, "train/kl": kl}, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        loss, rec, kl = self._loss(batch[0])
        self.log_dict({"val/loss": loss, "val/rec": rec, "val/kl": kl}, sync_dist=True)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)


class PreviewCallback(pl.Callback):
    """Logs reconstructions and prior samples every `every_n_steps` optimizer steps."""

    def __init__(self, every_n_steps=1000, n=16):
        self.every_n_steps = every_n_steps
        self.n = n
        self._fixed = None

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        step = trainer.global_step
        if step == 0 or step % self.every_n_steps != 0:
            return
        if self._fixed is None:
            self._fixed = batch[0][: self.n].detach().clone()
        pl_module.eval()  # expect: MG101
        with torch.no_grad():
            recon, _, _ = pl_module(self._fixed.to(pl_module.device))
            prior = pl_module.decode(torch.randn(self.n, pl_module.hparams.z_dim, device=pl_module.device))
        grid = torchvision.utils.make_grid(torch.cat([self._fixed.cpu(), recon.cpu(), prior.cpu()]), nrow=self.n)
        trainer.logger.experiment.add_image("preview", grid, step)


if __name__ == "__main__":
    dm = CelebADataModule("data/celeba", batch_size=128, image_size=64)
    trainer = pl.Trainer(max_epochs=30, accelerator="gpu", devices=1,
                         logger=TensorBoardLogger("tb", name="conv_vae"),
                         callbacks=[PreviewCallback(every_n_steps=500)])
    trainer.fit(ConvVAE(), datamodule=dm)
