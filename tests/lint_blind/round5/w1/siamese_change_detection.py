"""Bi-temporal building change detection (LEVIR-CD) with a Siamese U-Net (difference fusion)."""
import argparse
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader

from cd_datasets import LevirCD
from cd_metrics import f1_iou


class ConvBNReLU(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)), inplace=True)


class SiamUNetDiff(nn.Module):
    def __init__(self, in_ch=3, n_cls=2, base=16, freeze_bn=False):
        super().__init__()
        c = [base, base * 2, base * 4, base * 8]
        self.enc = nn.ModuleList()
        prev = in_ch
        for ch in c:
            self.enc.append(nn.Sequential(ConvBNReLU(prev, ch), ConvBNReLU(ch, ch)))
            prev = ch
        self.up = nn.ModuleList(nn.ConvTranspose2d(c[i], c[i - 1], 2, 2) for i in range(3, 0, -1))
        self.dec = nn.ModuleList(
            nn.Sequential(ConvBNReLU(c[i - 1] * 2, c[i - 1]), ConvBNReLU(c[i - 1], c[i - 1]))
            for i in range(3, 0, -1)
        )
        self.drop = nn.Dropout2d(0.2)
        self.cls = nn.Conv2d(c[0], n_cls, 1)
        self.freeze_bn = freeze_bn  # expect: MG104

    def freeze_bn(self):
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()

    def _encode(self, x):
        skips = []
        for i, stage in enumerate(self.enc):
            x = stage(x if i == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        return skips

    def forward(self, t1, t2):
        s1, s2 = self._encode(t1), self._encode(t2)
        x = torch.abs(s1[-1] - s2[-1])
        for up, dec, k in zip(self.up, self.dec, (2, 1, 0)):
            x = up(x)
            x = dec(torch.cat([x, torch.abs(s1[k] - s2[k])], 1))
        return self.cls(self.drop(x))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="/data/LEVIR-CD256")
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--bs", type=int, default=8)
    ap.add_argument("--freeze-bn", action="store_true")
    ap.add_argument("--resume", default="")
    args = ap.parse_args()

    tr = DataLoader(LevirCD(args.root, "train", aug=True), batch_size=args.bs, shuffle=True,
                    num_workers=4, drop_last=True)
    va = DataLoader(LevirCD(args.root, "val"), batch_size=16, num_workers=4)

    net = SiamUNetDiff(freeze_bn=args.freeze_bn).cuda()
    if args.resume:
        net.load_state_dict(torch.load(args.resume, map_location="cuda"))
    if net.freeze_bn:
        for name, p in net.named_parameters():
            if ".bn." in name:
                p.requires_grad = False  # expect: MG302
    opt = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad], lr=1e-3, weight_decay=1e-2)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.epochs)
    weights = torch.tensor([0.2, 0.8]).cuda()

    best_f1 = 0.0
    for epoch in range(args.epochs):
        net.train()
        for t1, t2, mask in tr:
            t1, t2, mask = t1.cuda(), t2.cuda(), mask.cuda().long()
            loss = F.cross_entropy(net(t1, t2), mask, weight=weights)
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()

        net.eval()
        preds, gts = [], []
        with torch.no_grad():
            for t1, t2, mask in va:
                preds.append(net(t1.cuda(), t2.cuda()).argmax(1).cpu())
                gts.append(mask)
        f1, iou = f1_iou(torch.cat(preds), torch.cat(gts))
        print(f"epoch {epoch}: loss {loss.item():.4f} F1 {f1:.4f} IoU {iou:.4f}")
        if f1 > best_f1:
            best_f1 = f1
            os.makedirs("weights", exist_ok=True)
            torch.save(net.state_dict(), "weights/siam_unet_diff.pth")


if __name__ == "__main__":
    main()
