"""Table / cell detector for scanned documents (CenterNet-style heatmap head).

The ResNet backbone keeps its BatchNorm layers frozen (statistics and affine parameters):
page batches are 2 images at 1024px, far too small for useful batch statistics.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

from tabdet.data import TableBank, collate_pages
from tabdet.decode import decode_heatmaps, average_precision


class FrozenBNResNet(nn.Module):
    def __init__(self, depth=50, frozen_stages=1, norm_eval=True):
        super().__init__()
        net = getattr(torchvision.models, f"resnet{depth}")(weights="IMAGENET1K_V2")
        self.stem = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool)
        self.stages = nn.ModuleList([net.layer1, net.layer2, net.layer3, net.layer4])
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self._freeze_stages()

    def _freeze_stages(self):
        if self.frozen_stages >= 0:
            for p in self.stem.parameters():
                p.requires_grad = False
        for i in range(self.frozen_stages):
            for p in self.stages[i].parameters():
                p.requires_grad = False

    def train(self, mode=True):
        super().train(mode)
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.eval()
                    for p in m.parameters():
                        p.requires_grad = False
        return self

    def forward(self, x):
        x = self.stem(x)
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return feats


class TableDetector(nn.Module):
    def __init__(self, n_classes=2):
        super().__init__()
        self.backbone = FrozenBNResNet()
        self.up = nn.Sequential(
            nn.ConvTranspose2d(2048, 256, 4, 2, 1), nn.GroupNorm(32, 256), nn.ReLU(),
            nn.ConvTranspose2d(256, 128, 4, 2, 1), nn.GroupNorm(32, 128), nn.ReLU())
        self.heatmap = nn.Conv2d(128, n_classes, 1)
        self.wh = nn.Conv2d(128, 2, 1)
        nn.init.constant_(self.heatmap.bias, -2.19)

    def forward(self, pages):
        h = self.up(self.backbone(pages)[-1])
        return torch.sigmoid(self.heatmap(h)), self.wh(h)


def focal_heatmap_loss(pred, gt, alpha=2, beta=4):
    pos = gt.eq(1).float()
    neg = 1 - pos
    pred = pred.clamp(1e-4, 1 - 1e-4)
    pos_loss = torch.log(pred) * (1 - pred) ** alpha * pos
    neg_loss = torch.log(1 - pred) * pred ** alpha * (1 - gt) ** beta * neg
    return -(pos_loss.sum() + neg_loss.sum()) / pos.sum().clamp(min=1)


def main(epochs=24, device="cuda"):
    det = TableDetector().to(device)
    train_dl = torch.utils.data.DataLoader(TableBank("train"), batch_size=2, shuffle=True,
                                           collate_fn=collate_pages, num_workers=4)
    val_dl = torch.utils.data.DataLoader(TableBank("val"), batch_size=2, collate_fn=collate_pages)
    opt = torch.optim.AdamW([p for p in det.parameters() if p.requires_grad], lr=2e-4)
    for epoch in range(epochs):
        det.train()
        for pages, hm_gt, wh_gt, wh_mask in train_dl:
            hm, wh = det(pages.to(device))
            loss = focal_heatmap_loss(hm, hm_gt.to(device)) + \
                0.1 * F.l1_loss(wh * wh_mask.to(device), wh_gt.to(device) * wh_mask.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()

        det.eval()
        dets, gts = [], []
        with torch.no_grad():
            for pages, _, _, boxes in val_dl:
                hm, wh = det(pages.to(device))
                dets.extend(decode_heatmaps(hm.cpu(), wh.cpu(), k=50))
                gts.extend(boxes)
        print(f"epoch {epoch}: loss {loss.item():.3f}  AP50 {average_precision(dets, gts, 0.5):.4f}")


if __name__ == "__main__":
    main()
