"""LightningModule for multi-label sound-event tagging on log-mel clips."""
import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchmetrics
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint

from sed_data import SEDDataModule


class ConvBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
            nn.AvgPool2d(2),
        )

    def forward(self, x):
        return self.body(x)


class SoundTagger(pl.LightningModule):
    def __init__(self, n_classes=527, lr=1e-3, mixup_alpha=0.4, drop=0.5):
        super().__init__()
        self.save_hyperparameters()
        self.spec_bn = nn.BatchNorm2d(64)
        self.blocks = nn.Sequential(ConvBlock(1, 64), ConvBlock(64, 128), ConvBlock(128, 256), ConvBlock(256, 512))
        self.dropout = nn.Dropout(drop)
        self.fc = nn.Linear(512, n_classes)
        self.val_map = torchmetrics.classification.MultilabelAveragePrecision(num_labels=n_classes)
        self.test_map = torchmetrics.classification.MultilabelAveragePrecision(num_labels=n_classes)

    def forward(self, mel):  # mel: (B, 1, T, 64)
        x = self.spec_bn(mel.transpose(1, 3)).transpose(1, 3)
        x = self.blocks(x).mean(dim=3)
        x = x.max(dim=2).values + x.mean(dim=2)
        return self.fc(self.dropout(x))

    def training_step(self, batch, batch_idx):
        mel, y = batch
        lam = torch.distributions.Beta(self.hparams.mixup_alpha, self.hparams.mixup_alpha).sample().item()
        perm = torch.randperm(mel.size(0), device=mel.device)
        mel = lam * mel + (1 - lam) * mel[perm]
        y = lam * y + (1 - lam) * y[perm]
        loss = F.binary_cross_entropy_with_logits(self(mel), y)
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        mel, y = batch
        logits = self(mel)
        self.log("val/loss", F.binary_cross_entropy_with_logits(logits, y), sync_dist=True)
        self.val_map.update(torch.sigmoid(logits), y.long())

    def on_validation_epoch_end(self):
        self.log("val/mAP", self.val_map.compute(), prog_bar=True)
        self.val_map.reset()

    def test_step(self, batch, batch_idx):
        mel, y = batch
        self.test_map.update(torch.sigmoid(self(mel)), y.long())

    def on_test_epoch_end(self):
        self.log("test/mAP", self.test_map.compute())
        self.test_map.reset()

    def predict_step(self, batch, batch_idx, dataloader_idx=0):
        mel = batch[0] if isinstance(batch, (list, tuple)) else batch
        return torch.sigmoid(self(mel))

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=1e-2)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=self.hparams.lr,
                                                    total_steps=self.trainer.estimated_stepping_batches)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


if __name__ == "__main__":
    pl.seed_everything(17)
    dm = SEDDataModule("data/audioset_balanced", batch_size=64, num_workers=8)
    tagger = SoundTagger()
    trainer = pl.Trainer(
        max_epochs=60, accelerator="gpu", devices=1, precision="16-mixed", val_check_interval=0.25,
        callbacks=[ModelCheckpoint(monitor="val/mAP", mode="max"), EarlyStopping(monitor="val/mAP", mode="max", patience=8),
                   LearningRateMonitor()],
    )
    trainer.fit(tagger, datamodule=dm)
    trainer.test(tagger, datamodule=dm, ckpt_path="best")
    preds = trainer.predict(tagger, datamodule=dm, ckpt_path="best")
    torch.save(torch.cat(preds), "test_probs.pt")
