"""Stage-wise training of a small recurrent optical-flow network.

    python flow_train.py --stage chairs --num_steps 100000
    python flow_train.py --stage things --restore_ckpt ckpts/chairs.pth   # BN frozen from here on
"""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F

from flowdata import fetch_dataloader, fetch_validation_sets


class ResidualUnit(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1)
        self.n1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.n2 = nn.BatchNorm2d(cout)
        self.skip = None if stride == 1 and cin == cout else nn.Sequential(nn.Conv2d(cin, cout, 1, stride),
                                                                            nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.n1(self.c1(x)))
        y = self.n2(self.c2(y))
        return F.relu(y + (x if self.skip is None else self.skip(x)))


class FlowNetLite(nn.Module):
    def __init__(self, iters=8, dropout=0.0):
        super().__init__()
        self.iters = iters
        self.fnet = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3), nn.BatchNorm2d(64), nn.ReLU(True),
                                  ResidualUnit(64, 96, 2), ResidualUnit(96, 128, 2), nn.Dropout2d(dropout))
        self.update = nn.GRUCell(128 * 2 + 2, 128)
        self.flow_head = nn.Linear(128, 2)

    def freeze_bn(self):
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()

    def forward(self, im1, im2):
        f1, f2 = self.fnet(im1), self.fnet(im2)
        B, C, H, W = f1.shape
        flow = f1.new_zeros(B, 2, H, W)
        h = f1.new_zeros(B * H * W, 128)
        preds = []
        for _ in range(self.iters):
            inp = torch.cat([f1, f2, flow], 1).permute(0, 2, 3, 1).reshape(B * H * W, -1)
            h = self.update(inp, h)
            flow = flow + self.flow_head(h).view(B, H, W, 2).permute(0, 3, 1, 2)
            preds.append(F.interpolate(flow, scale_factor=8, mode="bilinear", align_corners=False) * 8)
        return preds


def sequence_loss(preds, gt, valid, gamma=0.8):
    n = len(preds)
    return sum(gamma ** (n - i - 1) * ((p - gt).abs().sum(1) * valid).mean() for i, p in enumerate(preds))


@torch.no_grad()
def run_validation(net, val_sets, device):
    net.eval()
    results = {}
    for name, loader in val_sets.items():
        epe = []
        for im1, im2, gt, valid in loader:
            pred = net(im1.to(device), im2.to(device))[-1]
            err = (pred - gt.to(device)).norm(dim=1)
            epe.append(err[valid.to(device) > 0.5].mean().item())
        results[name] = sum(epe) / len(epe)
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stage", default="chairs", choices=["chairs", "things", "sintel"])
    ap.add_argument("--num_steps", type=int, default=100000)
    ap.add_argument("--val_freq", type=int, default=5000)
    ap.add_argument("--restore_ckpt", default=None)
    ap.add_argument("--lr", type=float, default=4e-4)
    args = ap.parse_args()

    device = torch.device("cuda")
    net = FlowNetLite().to(device)
    if args.restore_ckpt:
        net.load_state_dict(torch.load(args.restore_ckpt, map_location=device))
    net.train()
    if args.stage != "chairs":
        net.freeze_bn()

    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, args.lr, total_steps=args.num_steps + 100, pct_start=0.05)
    loader = fetch_dataloader(args.stage)
    val_sets = fetch_validation_sets(args.stage)

    step = 0
    while step < args.num_steps:
        for im1, im2, gt, valid in loader:
            preds = net(im1.to(device), im2.to(device))
            loss = sequence_loss(preds, gt.to(device), valid.to(device))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            if step % args.val_freq == 0:
                torch.save(net.state_dict(), f"ckpts/{step:06d}_{args.stage}.pth")
                print(step, run_validation(net, val_sets, device))
                net.train()
                if args.stage != "chairs":
                    net.freeze_bn()
            if step >= args.num_steps:
                break
    torch.save(net.state_dict(), f"ckpts/{args.stage}.pth")


if __name__ == "__main__":
    main()
