"""Lightning fine-tuning of a timm backbone on a plant-disease data set (batch size 8 / GPU)."""
import argparse

import lightning.pytorch as pl
import timm
import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.pytorch.callbacks import Callback, EarlyStopping, LearningRateMonitor

from leafdata import LeafDataModule


def _bn_to_eval(m):
    if isinstance(m, nn.modules.batchnorm._BatchNorm):
        m.eval()


class LeafClassifier(pl.LightningModule):
    def __init__(self, arch="resnet50d", num_classes=38, lr=1e-3, freeze_bn=True, drop=0.2):
        super().__init__()
        self.save_hyperparameters()
        self.backbone = timm.create_model(arch, pretrained=True, num_classes=0)
        self.head = nn.Sequential(nn.Dropout(drop), nn.Linear(self.backbone.num_features, num_classes))
        if freeze_bn:
            self.backbone.apply(_bn_to_eval)

    def train(self, mode: bool = True):
        super().train(mode)
        if mode and self.hparams.freeze_bn:
            self.backbone.apply(_bn_to_eval)
        return self

    def forward(self, x):
        return self.head(self.backbone(x))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y, label_smoothing=0.1)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log_dict({"val_loss": F.cross_entropy(logits, y),
                       "val_acc": (logits.argmax(1) == y).float().mean()}, prog_bar=True)

    def predict_step(self, batch, batch_idx, dataloader_idx=0):
        x, _ = batch
        return self(x).softmax(-1)

    def configure_optimizers(self):
        params = [{"params": self.backbone.parameters(), "lr": self.hparams.lr * 0.1},
                  {"params": self.head.parameters(), "lr": self.hparams.lr}]
        opt = torch.optim.AdamW(params, weight_decay=0.05)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=self.trainer.max_epochs)
        return [opt], [sched]


class ConfusionSnapshot(Callback):
    """Every few hundred steps, log a confusion matrix on a fixed probe batch."""

    def __init__(self, probe, every=300):
        self.probe, self.every = probe, every

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if trainer.global_step % self.every or not trainer.is_global_zero:
            return
        modes = {name: m.training for name, m in pl_module.named_modules()}
        pl_module.eval()
        try:
            x, y = (t.to(pl_module.device) for t in self.probe)
            with torch.no_grad():
                pred = pl_module(x).argmax(1)
            k = pl_module.hparams.num_classes
            cm = torch.bincount(y * k + pred, minlength=k * k).reshape(k, k)
            pl_module.logger.experiment.add_image("confusion", cm[None].float() / cm.max(),
                                                  trainer.global_step)
        finally:
            for name, m in pl_module.named_modules():
                m.training = modes[name]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--arch", default="resnet50d")
    ap.add_argument("--max_epochs", type=int, default=25)
    args = ap.parse_args()

    dm = LeafDataModule(args.root, batch_size=8)
    dm.setup("fit")
    model = LeafClassifier(args.arch, num_classes=dm.num_classes)
    trainer = pl.Trainer(max_epochs=args.max_epochs, accelerator="gpu", devices=2, strategy="ddp",
                         precision="bf16-mixed", val_check_interval=0.5,
                         callbacks=[EarlyStopping("val_acc", mode="max", patience=5),
                                    LearningRateMonitor(), ConfusionSnapshot(dm.probe_batch())])
    trainer.fit(model, datamodule=dm)
    preds = trainer.predict(model, dataloaders=dm.test_dataloader())
    torch.save(torch.cat(preds), "test_probs.pt")


if __name__ == "__main__":
    main()
