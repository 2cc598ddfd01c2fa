"""Fine-tune an ImageNet-pretrained U-Net on 512x512 histology tiles with batch size 2.

With two tiles per batch the BatchNorm batch statistics are useless, so all BN
layers of the encoder are kept in inference mode (and their affine parameters
fixed) for the whole run.  ``model.train()`` would re-enable them, so the freeze
is re-applied every time the trainer switches back to training.
"""
import argparse
import logging
from pathlib import Path

import segmentation_models_pytorch as smp
import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from histo.data import TileDataset, train_transforms, val_transforms

logger = logging.getLogger(__name__)


def freeze_bn_stats(module: nn.Module) -> None:
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        module.eval()


def freeze_bn_affine(module: nn.Module) -> None:
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        module.weight.requires_grad_(False)
        module.bias.requires_grad_(False)


class SegTrainer:
    def __init__(self, model, train_loader, val_loader, lr, device, out_dir):
        self.model = model.to(device)
        self.train_loader, self.val_loader = train_loader, val_loader
        self.device = device
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.model.encoder.apply(freeze_bn_affine)
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.optim = torch.optim.AdamW(params, lr=lr, weight_decay=1e-4)
        self.dice = smp.losses.DiceLoss("binary", from_logits=True)
        self.bce = nn.BCEWithLogitsLoss()

    def _to_train_mode(self):
        self.model.train()
        self.model.encoder.apply(freeze_bn_stats)

    def train_epoch(self, epoch):
        self._to_train_mode()
        running = 0.0
        for it, (img, mask) in enumerate(self.train_loader):
            img, mask = img.to(self.device), mask.to(self.device)
            logits = self.model(img)
            loss = self.bce(logits, mask) + self.dice(logits, mask)
            self.optim.zero_grad()
            loss.backward()
            self.optim.step()
            running += loss.item()
            if it % 50 == 0:
                logger.info("epoch %d it %d loss %.4f", epoch, it, loss.item())
        return running / max(1, len(self.train_loader))

    @torch.no_grad()
    def validate(self):
        self.model.eval()
        inter = union = 0.0
        for img, mask in self.val_loader:
            pred = (self.model(img.to(self.device)) > 0).float()
            mask = mask.to(self.device)
            inter += (pred * mask).sum().item()
            union += (pred + mask).clamp(max=1).sum().item()
        return inter / max(union, 1.0)

    def fit(self, epochs):
        best = 0.0
        for epoch in range(epochs):
            tr_loss = self.train_epoch(epoch)
            iou = self.validate()
            logger.info("epoch %d: train loss %.4f, val IoU %.4f", epoch, tr_loss, iou)
            if iou > best:
                best = iou
                torch.save(self.model.state_dict(), self.out_dir / "best.pt")
        return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tiles", required=True)
    ap.add_argument("--encoder", default="resnet34")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--out", default="runs/unet_histo")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO)

    model = smp.Unet(args.encoder, encoder_weights="imagenet", classes=1)
    train_ds = TileDataset(args.tiles, "train", train_transforms())
    val_ds = TileDataset(args.tiles, "val", val_transforms())
    trainer = SegTrainer(
        model,
        DataLoader(train_ds, batch_size=2, shuffle=True, num_workers=4, drop_last=True),
        DataLoader(val_ds, batch_size=8, num_workers=4),
        args.lr, "cuda" if torch.cuda.is_available() else "cpu", args.out,
    )
    print("best IoU:", trainer.fit(args.epochs))


if __name__ == "__main__":
    main()
