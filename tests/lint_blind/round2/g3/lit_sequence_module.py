"""LightningModule for ICU mortality prediction from irregular vitals sequences."""
import argparse

import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint
from torchmetrics.classification import BinaryAUROC, BinaryAveragePrecision

from icu_data import VitalsDataModule


class TimeAwareEncoder(nn.Module):
    def __init__(self, n_vars, d_model=128, n_heads=4, n_layers=2, p=0.2):
        super().__init__()
        self.value_proj = nn.Linear(2 * n_vars, d_model)  # values + observation mask
        self.time_proj = nn.Linear(1, d_model)
        layer = nn.TransformerEncoderLayer(d_model, n_heads, 4 * d_model, dropout=p, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, n_layers)
        self.p = p

    def forward(self, values, mask, times, pad):
        h = self.value_proj(torch.cat([values * mask, mask], -1)) + torch.sin(self.time_proj(times[..., None]))
        h = F.dropout(h, self.p, training=self.training)
        h = self.encoder(h, src_key_padding_mask=pad)
        keep = (~pad).unsqueeze(-1).float()
        return (h * keep).sum(1) / keep.sum(1).clamp(min=1.0)


class MortalityModel(L.LightningModule):
    def __init__(self, n_vars, lr=5e-4, pos_weight=6.0, **enc_kw):
        super().__init__()
        self.save_hyperparameters()
        self.enc = TimeAwareEncoder(n_vars, **enc_kw)
        self.cls = nn.Sequential(nn.Linear(self.enc.value_proj.out_features, 64), nn.ReLU(), nn.Dropout(0.3),
                                 nn.Linear(64, 1))
        self.val_auroc, self.val_ap = BinaryAUROC(), BinaryAveragePrecision()
        self.test_auroc = BinaryAUROC()

    def forward(self, batch):
        z = self.enc(batch["values"], batch["mask"], batch["times"], batch["pad"])
        return self.cls(z).squeeze(-1)

    def training_step(self, batch, batch_idx):
        logits = self(batch)
        loss = F.binary_cross_entropy_with_logits(
            logits, batch["y"].float(), pos_weight=torch.tensor(self.hparams.pos_weight, device=self.device))
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        probs = torch.sigmoid(self(batch))
        self.val_auroc.update(probs, batch["y"])
        self.val_ap.update(probs, batch["y"])

    def on_validation_epoch_end(self):
        self.log("val/auroc", self.val_auroc.compute(), prog_bar=True)
        self.log("val/ap", self.val_ap.compute())
        self.val_auroc.reset()
        self.val_ap.reset()

    def test_step(self, batch, batch_idx):
        self.test_auroc.update(torch.sigmoid(self(batch)), batch["y"])
        self.log("test/auroc", self.test_auroc, on_epoch=True)

    def predict_step(self, batch, batch_idx, dataloader_idx=0):
        return torch.sigmoid(self(batch))

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=1e-2)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, self.hparams.lr, total_steps=self.trainer.estimated_stepping_batches)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


class CalibrationProbe(Callback):
    """Every N training batches, log the mean predicted risk on a fixed probe batch."""

    def __init__(self, probe_batch, every=500):
        self.probe_batch, self.every = probe_batch, every

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if batch_idx % self.every:
            return
        was_training = pl_module.training
        pl_module.eval()
        with torch.no_grad():
            batch = {k: v.to(pl_module.device) for k, v in self.probe_batch.items()}
            risk = torch.sigmoid(pl_module(batch)).mean()
        pl_module.train(was_training)
        pl_module.log("probe/mean_risk", risk)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="data/physionet2012")
    ap.add_argument("--max-epochs", type=int, default=50)
    args = ap.parse_args()

    dm = VitalsDataModule(args.root, batch_size=64)
    dm.setup("fit")
    model = MortalityModel(n_vars=dm.n_vars)
    trainer = L.Trainer(
        max_epochs=args.max_epochs, accelerator="auto", gradient_clip_val=1.0, val_check_interval=0.25,
        callbacks=[ModelCheckpoint(monitor="val/auroc", mode="max"),
                   EarlyStopping(monitor="val/auroc", mode="max", patience=8),
                   CalibrationProbe(next(iter(dm.val_dataloader())))],
    )
    trainer.fit(model, datamodule=dm)
    trainer.test(ckpt_path="best", datamodule=dm)
    preds = trainer.predict(model, dataloaders=dm.test_dataloader(), ckpt_path="best")
    torch.save(torch.cat(preds), "test_risk.pt")


if __name__ == "__main__":
    main()
