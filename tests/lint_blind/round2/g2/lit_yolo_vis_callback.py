"""Lightning training of a small YOLOX-style detector with a W&B visualisation callback."""
import lightning as L
import torch
import wandb
from lightning.pytorch.callbacks import Callback, LearningRateMonitor
from lightning.pytorch.loggers import WandbLogger

from yolox_tiny import YOLOXTiny, yolox_loss, postprocess
from coco_dm import CocoDetectionDataModule


class DetectionPreview(Callback):
    """Log boxes predicted on a fixed handful of validation images."""

    def __init__(self, images, class_names, every_n_steps=1000, conf=0.3):
        self.images = images
        self.class_names = class_names
        self.every = every_n_steps
        self.conf = conf

    def _render(self, pl_module):
        pl_module.model.eval()  # expect: MG101
        with torch.no_grad():
            raw = pl_module.model(self.images.to(pl_module.device))
        dets = postprocess(raw, conf_thre=self.conf, nms_thre=0.45)
        panels = []
        for img, det in zip(self.images, dets):
            boxes = []
            if det is not None:
                for x1, y1, x2, y2, obj, cls_conf, cls in det.tolist():
                    boxes.append({"position": {"minX": x1, "minY": y1, "maxX": x2, "maxY": y2},
                                  "class_id": int(cls), "scores": {"conf": obj * cls_conf},
                                  "domain": "pixel"})
            panels.append(wandb.Image(img.permute(1, 2, 0).numpy(), boxes={
                "pred": {"box_data": boxes, "class_labels": dict(enumerate(self.class_names))}}))
        return panels

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if trainer.global_step > 0 and trainer.global_step % self.every == 0 and trainer.is_global_zero:
            trainer.logger.experiment.log({"preview": self._render(pl_module)}, step=trainer.global_step)


class LitYOLOX(L.LightningModule):
    def __init__(self, num_classes=80, lr=0.01, wd=5e-4):
        super().__init__()
        self.save_hyperparameters()
        self.model = YOLOXTiny(num_classes)

    def training_step(self, batch, batch_idx):
        imgs, targets = batch
        losses = yolox_loss(self.model(imgs), targets)
        self.log_dict({f"train/{k}": v for k, v in losses.items()}, prog_bar=True)
        return losses["total"]

    def validation_step(self, batch, batch_idx):
        imgs, targets = batch
        dets = postprocess(self.model(imgs), conf_thre=0.001, nms_thre=0.65)
        self.trainer.datamodule.coco_eval.update(dets, targets)

    def on_validation_epoch_end(self):
        stats = self.trainer.datamodule.coco_eval.compute()
        self.log("val/mAP", stats["map"], prog_bar=True)

    def configure_optimizers(self):
        decay, no_decay = [], []
        for n, p in self.model.named_parameters():
            (no_decay if p.ndim <= 1 else decay).append(p)
        opt = torch.optim.SGD([{"params": decay, "weight_decay": self.hparams.wd},
                               {"params": no_decay, "weight_decay": 0.0}],
                              lr=self.hparams.lr, momentum=0.9, nesterov=True)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, self.hparams.lr,
                                                    total_steps=self.trainer.estimated_stepping_batches)
        return [opt], [{"scheduler": sched, "interval": "step"}]


if __name__ == "__main__":
    dm = CocoDetectionDataModule("/data/coco", img_size=416, batch_size=32)
    dm.setup("fit")
    preview_imgs = torch.stack([dm.val_set[i][0] for i in range(8)])
    trainer = L.Trainer(max_epochs=300, accelerator="gpu", devices=1, precision="16-mixed",
                        logger=WandbLogger(project="yolox-tiny"), check_val_every_n_epoch=10,
                        callbacks=[DetectionPreview(preview_imgs, dm.class_names), LearningRateMonitor()])
    trainer.fit(LitYOLOX(), datamodule=dm)
