"""PyTorch Lightning UNet for polyp segmentation (Kvasir-SEG)."""
import lightning as L
import segmentation_models_pytorch as smp
import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from torchmetrics.classification import BinaryJaccardIndex

from kvasir import KvasirDataModule


class PolypSegmenter(L.LightningModule):
    def __init__(self, encoder="resnet34", lr=3e-4, dropout=0.2):
        super().__init__()
        self.save_hyperparameters()
        self.net = smp.Unet(encoder, encoder_weights="imagenet", classes=1,
                            aux_params={"classes": 1, "dropout": dropout})
        self.val_iou = BinaryJaccardIndex()
        self.test_iou = BinaryJaccardIndex()

    def forward(self, x):
        mask, _ = self.net(x)
        return mask

    def _loss(self, logits, target):
        bce = F.binary_cross_entropy_with_logits(logits, target)
        p = logits.sigmoid()
        dice = 1 - (2 * (p * target).sum((2, 3)) + 1) / (p.sum((2, 3)) + target.sum((2, 3)) + 1)
        return bce + dice.mean()

    def training_step(self, batch, batch_idx):
        img, mask = batch
        loss = self._loss(self(img), mask)
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        img, mask = batch
        logits = self(img)
        self.log("val/loss", self._loss(logits, mask), sync_dist=True)
        self.val_iou.update(logits.sigmoid(), mask.int())

    def on_validation_epoch_end(self):
        self.log("val/iou", self.val_iou.compute(), prog_bar=True)
        self.val_iou.reset()

    def test_step(self, batch, batch_idx):
        img, mask = batch
        probs = (self(img).sigmoid() + self(img.flip(-1)).sigmoid().flip(-1)) / 2
        self.test_iou.update(probs, mask.int())
        self.log("test/iou", self.test_iou, on_epoch=True)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=self.trainer.max_epochs)
        return [opt], [sched]


class OverlayLogger(Callback):
    """Every N training batches, log predictions on a fixed batch to TensorBoard."""

    def __init__(self, fixed_batch, every_n=300):
        self.images = fixed_batch[0]
        self.every_n = every_n

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if trainer.global_step % self.every_n:
            return
        previous = pl_module.training
        pl_module.eval()
        with torch.no_grad():
            probs = pl_module(self.images.to(pl_module.device)).sigmoid()
        pl_module.train(previous)
        trainer.logger.experiment.add_images("pred", probs, trainer.global_step)


def main():
    dm = KvasirDataModule("/data/kvasir-seg", batch_size=8, img_size=352)
    dm.setup("fit")
    model = PolypSegmenter()
    trainer = L.Trainer(max_epochs=80, accelerator="gpu", devices=1, precision="16-mixed",
                        callbacks=[ModelCheckpoint(monitor="val/iou", mode="max"),
                                   OverlayLogger(next(iter(dm.val_dataloader())))])
    trainer.fit(model, datamodule=dm)
    trainer.test(model, datamodule=dm, ckpt_path="best")


if __name__ == "__main__":
    main()
