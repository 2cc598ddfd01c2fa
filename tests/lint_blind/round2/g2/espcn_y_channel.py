"""ESPCN (sub-pixel CNN) x3 super-resolution on the Y channel, trained on T91/BSD200.

The network is three convolutions and a pixel shuffle: no normalisation and no
dropout, so train/eval mode make no difference for it.
"""
import argparse
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from sr_datasets import YPatchDataset, YEvalSet


class ESPCN(nn.Module):
    def __init__(self, scale=3, ch=1, f1=64, f2=32):
        super().__init__()
        self.feat = nn.Sequential(
            nn.Conv2d(ch, f1, 5, padding=2), nn.Tanh(),
            nn.Conv2d(f1, f2, 3, padding=1), nn.Tanh())
        self.sub = nn.Sequential(nn.Conv2d(f2, ch * scale ** 2, 3, padding=1), nn.PixelShuffle(scale))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, 0.0, math.sqrt(2 / (m.out_channels * m.weight[0][0].numel())))
                nn.init.zeros_(m.bias)

    def forward(self, y):
        return self.sub(self.feat(y)).clamp(0.0, 1.0)


def psnr(a, b, border):
    a, b = a[..., border:-border, border:-border], b[..., border:-border, border:-border]
    mse = F.mse_loss(a, b).item()
    return 10 * math.log10(1.0 / max(mse, 1e-10))


def avg_psnr(sr_net, eval_set, scale, device):
    sr_net.eval()
    values = []
    with torch.no_grad():
        for lr, hr in eval_set:
            pred = sr_net(lr.unsqueeze(0).to(device))
            values.append(psnr(pred, hr.unsqueeze(0).to(device), scale))
    return sum(values) / len(values)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", default="data/91-image_x3.h5")
    ap.add_argument("--eval", default="data/Set5_x3.h5")
    ap.add_argument("--scale", type=int, default=3)
    ap.add_argument("--iters", type=int, default=200000)
    ap.add_argument("--eval-every", type=int, default=2000)
    args = ap.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"

    net = ESPCN(args.scale).to(device)
    opt = torch.optim.Adam([
        {"params": net.feat.parameters()},
        {"params": net.sub.parameters(), "lr": 1e-4},
    ], lr=1e-3)
    loader = torch.utils.data.DataLoader(YPatchDataset(args.train), batch_size=16, shuffle=True,
                                         num_workers=4, drop_last=True)
    eval_set = YEvalSet(args.eval)

    best, it = 0.0, 0
    while it < args.iters:
        for lr, hr in loader:
            loss = F.mse_loss(net(lr.to(device)), hr.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
            it += 1
            if it % args.eval_every == 0:
                score = avg_psnr(net, eval_set, args.scale, device)
                if score > best:
                    best = score
                    torch.save(net.state_dict(), "espcn_x3_best.pth")
                print(f"iter {it}: loss {loss.item():.5f}  Set5 PSNR {score:.2f} (best {best:.2f})")
            if it >= args.iters:
                break


if __name__ == "__main__":
    main()
