"""Binary segmentation of building footprints with PyTorch Lightning."""
import argparse

import lightning.pytorch as pl
import segmentation_models_pytorch as smp
import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint
from torchmetrics.classification import BinaryJaccardIndex

from footprints.data import FootprintDataModule


class FootprintSegmenter(pl.LightningModule):
    def __init__(self, encoder="resnet34", lr=1e-3, weight_decay=1e-4, pos_weight=2.0):
        super().__init__()
        self.save_hyperparameters()
        self.net = smp.Unet(encoder_name=encoder, encoder_weights="imagenet",
                            in_channels=3, classes=1, decoder_attention_type="scse")
        self.register_buffer("pos_weight", torch.tensor([pos_weight]))
        self.val_iou = BinaryJaccardIndex()
        self.test_iou = BinaryJaccardIndex()

    def forward(self, images):
        return self.net(images)

    def _loss(self, logits, masks):
        bce = F.binary_cross_entropy_with_logits(logits, masks, pos_weight=self.pos_weight)
        probs = logits.sigmoid()
        inter = (probs * masks).sum((2, 3))
        dice = 1 - (2 * inter + 1) / (probs.sum((2, 3)) + masks.sum((2, 3)) + 1)
        return bce + dice.mean()

    def training_step(self, batch, batch_idx):
        logits = self(batch["image"])
        loss = self._loss(logits, batch["mask"])
        self.log("train/loss", loss, prog_bar=True, on_step=True, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):
        logits = self(batch["image"])
        loss = self._loss(logits, batch["mask"])
        self.val_iou.update(logits.sigmoid() > 0.5, batch["mask"].bool())
        self.log("val/loss", loss, prog_bar=True, sync_dist=True)

    def on_validation_epoch_end(self):
        self.log("val/iou", self.val_iou.compute(), prog_bar=True, sync_dist=True)
        self.val_iou.reset()

    def test_step(self, batch, batch_idx):
        image = batch["image"]
        logits = (self(image) + self(image.flip(-1)).flip(-1)) / 2
        self.test_iou.update(logits.sigmoid() > 0.5, batch["mask"].bool())

    def on_test_epoch_end(self):
        self.log("test/iou", self.test_iou.compute())
        self.test_iou.reset()

    def predict_step(self, batch, batch_idx, dataloader_idx=0):
        return {"tile": batch["tile_id"], "prob": self(batch["image"]).sigmoid().cpu()}

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr,
                                weight_decay=self.hparams.weight_decay)
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=self.hparams.lr, total_steps=self.trainer.estimated_stepping_batches)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def cli():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--encoder", default="resnet34")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--bs", type=int, default=16)
    ap.add_argument("--val-check", type=float, default=0.25)
    args = ap.parse_args()

    pl.seed_everything(17)
    dm = FootprintDataModule(args.root, batch_size=args.bs, num_workers=8)
    module = FootprintSegmenter(encoder=args.encoder)
    ckpt = ModelCheckpoint(monitor="val/iou", mode="max", save_top_k=2)
    trainer = pl.Trainer(max_epochs=args.epochs, accelerator="gpu", devices=1, precision="16-mixed",
                         val_check_interval=args.val_check,
                         callbacks=[ckpt, LearningRateMonitor("step")])
    trainer.fit(module, datamodule=dm)
    trainer.test(module, datamodule=dm, ckpt_path="best")
    preds = trainer.predict(module, datamodule=dm, ckpt_path="best")
    torch.save(preds, "predictions.pt")


if __name__ == "__main__":
    cli()
