"""CIFAR-10 with PyTorch Lightning: small ResNet, OneCycle, a callback that logs predictions."""
import argparse

import pytorch_lightning as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchmetrics
from pytorch_lightning.callbacks import Callback, LearningRateMonitor, ModelCheckpoint

from cifar_dm import CIFAR10DataModule


def conv_bn(cin, cout, pool=False):
    layers = [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
    if pool:
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


class Res9(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.prep = conv_bn(3, 64)
        self.l1 = conv_bn(64, 128, pool=True)
        self.r1 = nn.Sequential(conv_bn(128, 128), conv_bn(128, 128))
        self.l2 = conv_bn(128, 256, pool=True)
        self.l3 = conv_bn(256, 512, pool=True)
        self.r3 = nn.Sequential(conv_bn(512, 512), conv_bn(512, 512))
        self.head = nn.Sequential(nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Dropout(0.2),
                                  nn.Linear(512, num_classes))

    def forward(self, x):
        x = self.l1(self.prep(x))
        x = x + self.r1(x)
        x = self.l3(self.l2(x))
        return self.head(x + self.r3(x))


class LitClassifier(pl.LightningModule):
    def __init__(self, lr=0.05, epochs=30, steps_per_epoch=390):
        super().__init__()
        self.save_hyperparameters()
        self.net = Res9()
        self.train_acc = torchmetrics.Accuracy(task="multiclass", num_classes=10)
        self.val_acc = torchmetrics.Accuracy(task="multiclass", num_classes=10)

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        loss = F.cross_entropy(logits, y, label_smoothing=0.1)
        self.train_acc(logits, y)
        self.log_dict({"train/loss": loss, "train/acc": self.train_acc}, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.val_acc(logits, y)
        self.log_dict({"val/loss": F.cross_entropy(logits, y), "val/acc": self.val_acc}, prog_bar=True)

    def test_step(self, batch, batch_idx):
        x, y = batch
        self.log("test/acc", (self(x).argmax(1) == y).float().mean())

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=self.hparams.lr, momentum=0.9,
                              nesterov=True, weight_decay=5e-4)
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=self.hparams.lr, epochs=self.hparams.epochs,
            steps_per_epoch=self.hparams.steps_per_epoch)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


class LogSamplePredictions(Callback):
    """At the end of every training epoch, log predictions on a fixed batch."""

    def __init__(self, batch, every=5):
        self.x, self.y = batch
        self.every = every

    def on_train_epoch_end(self, trainer, pl_module):
        if trainer.current_epoch % self.every:
            return
        was_training = pl_module.training
        pl_module.eval()
        try:
            with torch.no_grad():
                preds = pl_module(self.x.to(pl_module.device)).argmax(1).cpu()
        finally:
            pl_module.train(was_training)
        acc = (preds == self.y).float().mean().item()
        trainer.logger.log_metrics({"samples/acc": acc}, step=trainer.global_step)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--bs", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.05)
    args = ap.parse_args()

    pl.seed_everything(0)
    dm = CIFAR10DataModule(batch_size=args.bs)
    dm.setup("fit")
    fixed = next(iter(dm.val_dataloader()))
    model = LitClassifier(lr=args.lr, epochs=args.epochs,
                          steps_per_epoch=len(dm.train_dataloader()))
    trainer = pl.Trainer(max_epochs=args.epochs, accelerator="auto", precision="16-mixed",
                         callbacks=[ModelCheckpoint(monitor="val/acc", mode="max"),
                                    LearningRateMonitor("step"), LogSamplePredictions(fixed)])
    trainer.fit(model, datamodule=dm)
    trainer.test(model, datamodule=dm, ckpt_path="best")


if __name__ == "__main__":
    main()
