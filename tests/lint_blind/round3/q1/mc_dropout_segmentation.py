"""Monte-Carlo dropout uncertainty maps for retinal vessel segmentation (DRIVE / CHASE).

Usage:
    python mc_dropout_segmentation.py --ckpt unet_drive.pt --images data/DRIVE/test/images --T 20
"""
import argparse
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from PIL import Image


class DoubleConv(nn.Sequential):
    def __init__(self, cin, cout, p):
        super().__init__(
            nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
            nn.Dropout2d(p),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        )


class BayesUNet(nn.Module):
    def __init__(self, base=32, p=0.2):
        super().__init__()
        self.e1, self.e2, self.e3 = DoubleConv(3, base, p), DoubleConv(base, base * 2, p), DoubleConv(base * 2, base * 4, p)
        self.pool = nn.MaxPool2d(2)
        self.u2 = nn.ConvTranspose2d(base * 4, base * 2, 2, stride=2)
        self.d2 = DoubleConv(base * 4, base * 2, p)
        self.u1 = nn.ConvTranspose2d(base * 2, base, 2, stride=2)
        self.d1 = DoubleConv(base * 2, base, p)
        self.out = nn.Conv2d(base, 1, 1)

    def forward(self, x):
        x1 = self.e1(x)
        x2 = self.e2(self.pool(x1))
        x3 = self.e3(self.pool(x2))
        y = self.d2(torch.cat([self.u2(x3), x2], 1))
        y = self.d1(torch.cat([self.u1(y), x1], 1))
        return self.out(y)


def enable_mc_dropout(net: nn.Module) -> int:
    """Eval mode everywhere (BatchNorm uses running stats) except the dropout layers."""
    net.eval()
    n = 0
    for m in net.modules():
        if isinstance(m, (nn.Dropout, nn.Dropout2d)):
            m.train()
            n += 1
    return n


@torch.no_grad()
def mc_predict(net, img, T=20):
    probs = torch.stack([torch.sigmoid(net(img)) for _ in range(T)])  # T, B, 1, H, W
    mean = probs.mean(0)
    eps = 1e-6
    entropy = -(mean * torch.log(mean + eps) + (1 - mean) * torch.log(1 - mean + eps))
    mutual_info = entropy + (probs * torch.log(probs + eps) + (1 - probs) * torch.log(1 - probs + eps)).mean(0)
    return mean, entropy, mutual_info


def expected_calibration_error(p, y, bins=15):
    p, y = p.ravel(), y.ravel()
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (p > lo) & (p <= hi)
        if sel.any():
            ece += sel.mean() * abs(p[sel].mean() - y[sel].mean())
    return ece


def load_rgb(path, size=(576, 576)):
    im = np.asarray(Image.open(path).convert("RGB").resize(size), dtype=np.float32) / 255.0
    im = (im - im.mean((0, 1))) / (im.std((0, 1)) + 1e-6)
    return torch.from_numpy(im).permute(2, 0, 1)[None]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--images", required=True)
    ap.add_argument("--labels", default=None)
    ap.add_argument("--out", default="uncertainty")
    ap.add_argument("--T", type=int, default=20)
    args = ap.parse_args()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    net = BayesUNet()
    net.load_state_dict(torch.load(args.ckpt, map_location="cpu"))
    net.to(device)
    n_drop = enable_mc_dropout(net)
    print(f"MC dropout active in {n_drop} layers, T={args.T}")

    out = Path(args.out)
    out.mkdir(exist_ok=True)
    eces = []
    for path in sorted(Path(args.images).glob("*.tif")):
        mean, ent, mi = mc_predict(net, load_rgb(path).to(device), args.T)
        mean_np = mean[0, 0].cpu().numpy()
        Image.fromarray((mean_np * 255).astype(np.uint8)).save(out / f"{path.stem}_prob.png")
        Image.fromarray((ent[0, 0].cpu().numpy() / np.log(2) * 255).astype(np.uint8)).save(out / f"{path.stem}_entropy.png")
        np.save(out / f"{path.stem}_mi.npy", mi[0, 0].cpu().numpy())
        if args.labels:
            gt = np.asarray(Image.open(Path(args.labels) / f"{path.stem.split('_')[0]}_manual1.gif").resize((576, 576))) > 0
            eces.append(expected_calibration_error(mean_np, gt.astype(np.float32)))
    if eces:
        print(f"mean ECE over {len(eces)} images: {np.mean(eces):.4f}")


if __name__ == "__main__":
    main()
