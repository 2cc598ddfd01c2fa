# Port of our Keras nucleus-segmentation U-Net to PyTorch.
# Hyper-parameters (BN eps/momentum, dropout) were copied from the Keras config
# so that the converted checkpoints reproduce the original numbers.
import argparse
import glob
import os

import numpy as np
import tifffile
import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn_relu(cin, cout):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout, eps=1e-3, momentum=0.99),  # expect: MG303
        nn.ReLU(inplace=True),
    )


class Down(nn.Module):
    def __init__(self, cin, cout, p):
        super().__init__()
        self.body = nn.Sequential(conv_bn_relu(cin, cout), nn.Dropout2d(p), conv_bn_relu(cout, cout))

    def forward(self, x):
        skip = self.body(x)
        return F.max_pool2d(skip, 2), skip


class Up(nn.Module):
    def __init__(self, cin, cout, p):
        super().__init__()
        self.up = nn.ConvTranspose2d(cin, cout, 2, stride=2)
        self.body = nn.Sequential(conv_bn_relu(2 * cout, cout), nn.Dropout2d(p), conv_bn_relu(cout, cout))

    def forward(self, x, skip):
        return self.body(torch.cat([self.up(x), skip], dim=1))


class NucleiUNet(nn.Module):
    def __init__(self, in_ch=3, n_cls=3, width=16):
        super().__init__()
        w = [width * 2 ** i for i in range(5)]
        self.downs = nn.ModuleList([Down(in_ch, w[0], 0.1), Down(w[0], w[1], 0.1),
                                    Down(w[1], w[2], 0.2), Down(w[2], w[3], 0.2)])
        self.bottom = nn.Sequential(conv_bn_relu(w[3], w[4]), nn.Dropout2d(0.3), conv_bn_relu(w[4], w[4]))
        self.ups = nn.ModuleList([Up(w[4], w[3], 0.2), Up(w[3], w[2], 0.2),
                                  Up(w[2], w[1], 0.1), Up(w[1], w[0], 0.1)])
        self.head = nn.Conv2d(w[0], n_cls, 1)

    def forward(self, x):
        skips = []
        for d in self.downs:
            x, s = d(x)
            skips.append(s)
        x = self.bottom(x)
        for u, s in zip(self.ups, reversed(skips)):
            x = u(x, s)
        return self.head(x)


def segment_slide(net, image, tile, device):
    """Sliding-window prediction with a 50% overlap, averaged softmax."""
    h, w = image.shape[:2]
    step = tile // 2
    acc = np.zeros((3, h, w), np.float32)
    cnt = np.zeros((h, w), np.float32)
    with torch.no_grad():
        for y in range(0, max(h - tile, 0) + 1, step):
            for x in range(0, max(w - tile, 0) + 1, step):
                patch = image[y:y + tile, x:x + tile].astype(np.float32) / 255.0
                t = torch.from_numpy(patch).permute(2, 0, 1)[None].to(device)
                prob = F.softmax(net(t), dim=1)[0].cpu().numpy()  # expect: MG102
                acc[:, y:y + tile, x:x + tile] += prob
                cnt[y:y + tile, x:x + tile] += 1
    return (acc / np.maximum(cnt, 1)).argmax(0).astype(np.uint8)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("weights")
    ap.add_argument("slides", help="directory of RGB .tif tiles")
    ap.add_argument("--out", default="masks")
    ap.add_argument("--tile", type=int, default=256)
    args = ap.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    net = NucleiUNet()
    net.load_state_dict(torch.load(args.weights, map_location="cpu"))
    net.to(device)

    os.makedirs(args.out, exist_ok=True)
    for path in sorted(glob.glob(os.path.join(args.slides, "*.tif"))):
        mask = segment_slide(net, tifffile.imread(path), args.tile, device)
        tifffile.imwrite(os.path.join(args.out, os.path.basename(path)), mask)
        print(path, np.bincount(mask.ravel(), minlength=3))


if __name__ == "__main__":
    main()
