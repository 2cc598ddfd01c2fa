"""PyTorch Lightning module for BraTS-style 2D tumour segmentation."""
import lightning.pytorch as pl
import torch
import torch.nn.functional as F
import torchvision
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from monai.losses import DiceCELoss
from monai.metrics import DiceMetric
from monai.networks.nets import UNet

from brats2d import BraTSDataModule


class LitTumourSeg(pl.LightningModule):
    def __init__(self, lr=2e-4, channels=(32, 64, 128, 256, 320), dropout=0.1):
        super().__init__()
        self.save_hyperparameters()
        self.net = UNet(spatial_dims=2, in_channels=4, out_channels=4, channels=channels,
                        strides=(2, 2, 2, 2), num_res_units=2, norm="batch", dropout=dropout)
        self.loss = DiceCELoss(to_onehot_y=True, softmax=True)
        self.dice = DiceMetric(include_background=False, reduction="mean_batch")

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        logits = self(batch["image"])
        loss = self.loss(logits, batch["label"])
        self.log("train/loss", loss, on_step=True, on_epoch=True, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        logits = self(batch["image"])
        self.log("val/loss", self.loss(logits, batch["label"]), sync_dist=True)
        pred = F.one_hot(logits.argmax(1), 4).permute(0, 3, 1, 2)
        target = F.one_hot(batch["label"][:, 0].long(), 4).permute(0, 3, 1, 2)
        self.dice(pred, target)

    def on_validation_epoch_end(self):
        per_class = self.dice.aggregate()
        self.dice.reset()
        for name, v in zip(["NCR", "ED", "ET"], per_class):
            self.log(f"val/dice_{name}", v, sync_dist=True)
        self.log("val/dice", per_class.mean(), prog_bar=True, sync_dist=True)

    def predict_step(self, batch, batch_idx, dataloader_idx=0):
        return self(batch["image"]).softmax(1)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=self.trainer.max_epochs)
        return {"optimizer": opt, "lr_scheduler": sched}


class SampleGrid(pl.Callback):
    """Logs a grid of predictions on a fixed batch after every training epoch."""

    def __init__(self, batch):
        self.batch = batch

    def on_train_epoch_end(self, trainer, pl_module):
        prev = pl_module.training
        pl_module.eval()
        try:
            with torch.no_grad():
                img = self.batch["image"].to(pl_module.device)
                pred = pl_module(img).argmax(1, keepdim=True).float() / 3.0
        finally:
            pl_module.train(prev)
        grid = torchvision.utils.make_grid(torch.cat([img[:, :1], pred], 0), nrow=len(img))
        trainer.logger.experiment.add_image("samples", grid, trainer.current_epoch)


if __name__ == "__main__":
    dm = BraTSDataModule("data/brats2021_2d", batch_size=16)
    dm.setup("fit")
    model = LitTumourSeg()
    trainer = pl.Trainer(
        max_epochs=100, precision="16-mixed", accelerator="gpu", devices=2, strategy="ddp",
        callbacks=[ModelCheckpoint(monitor="val/dice", mode="max", save_top_k=2),
                   EarlyStopping(monitor="val/dice", mode="max", patience=15),
                   SampleGrid(next(iter(dm.val_dataloader())))],
    )
    trainer.fit(model, datamodule=dm)
    trainer.validate(model, datamodule=dm, ckpt_path="best")
