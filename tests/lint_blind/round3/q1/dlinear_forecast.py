"""DLinear / NLinear baselines for the ETT + electricity long-term forecasting benchmark."""
import argparse
import os
import time

import numpy as np
import torch
import torch.nn as nn

from data_provider import get_loader


class MovingAvg(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.k = kernel_size
        self.avg = nn.AvgPool1d(kernel_size, stride=1)

    def forward(self, x):  # B, L, C
        front = x[:, :1].repeat(1, (self.k - 1) // 2, 1)
        end = x[:, -1:].repeat(1, self.k // 2, 1)
        x = torch.cat([front, x, end], dim=1)
        return self.avg(x.permute(0, 2, 1)).permute(0, 2, 1)


class DLinear(nn.Module):
    def __init__(self, seq_len, pred_len, channels, kernel_size=25, individual=False):
        super().__init__()
        self.decomp = MovingAvg(kernel_size)
        self.individual = individual
        n = channels if individual else 1
        self.seasonal = nn.ModuleList([nn.Linear(seq_len, pred_len) for _ in range(n)])
        self.trend = nn.ModuleList([nn.Linear(seq_len, pred_len) for _ in range(n)])
        self.channels = channels

    def forward(self, x):
        trend = self.decomp(x)
        seasonal = (x - trend).permute(0, 2, 1)
        trend = trend.permute(0, 2, 1)
        if self.individual:
            out = torch.stack([self.seasonal[i](seasonal[:, i]) + self.trend[i](trend[:, i])
                               for i in range(self.channels)], dim=1)
        else:
            out = self.seasonal[0](seasonal) + self.trend[0](trend)
        return out.permute(0, 2, 1)


def run_eval(model, loader, device):
    model.eval()
    preds, trues = [], []
    with torch.no_grad():
        for bx, by in loader:
            out = model(bx.float().to(device))
            preds.append(out.cpu().numpy())
            trues.append(by.float().numpy())
    p, t = np.concatenate(preds), np.concatenate(trues)
    return float(np.mean((p - t) ** 2)), float(np.mean(np.abs(p - t)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="ETTh1")
    ap.add_argument("--root", default="./dataset")
    ap.add_argument("--seq_len", type=int, default=336)
    ap.add_argument("--pred_len", type=int, default=96)
    ap.add_argument("--enc_in", type=int, default=7)
    ap.add_argument("--individual", action="store_true")
    ap.add_argument("--kernel", default="25")
    ap.add_argument("--lr", type=float, default=5e-3)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--eval_every", type=int, default=200, help="iterations between val checks")
    ap.add_argument("--patience", type=int, default=3)
    args = ap.parse_args()

    device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    kernel = eval(args.kernel)  # allows e.g. "4*6+1" from the sweep configs
    model = DLinear(args.seq_len, args.pred_len, args.enc_in, kernel, args.individual).to(device)
    train_loader = get_loader(args, "train")
    val_loader = get_loader(args, "val")
    test_loader = get_loader(args, "test")
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    crit = nn.MSELoss()

    best, bad, it = float("inf"), 0, 0
    ckpt = os.path.join("checkpoints", f"{args.data}_{args.seq_len}_{args.pred_len}.pth")
    os.makedirs("checkpoints", exist_ok=True)
    for epoch in range(args.epochs):
        model.train()
        t0 = time.time()
        for bx, by in train_loader:
            opt.zero_grad()
            loss = crit(model(bx.float().to(device)), by.float().to(device))
            loss.backward()
            opt.step()
            it += 1
            if it % args.eval_every == 0:
                # DLinear has no dropout / normalisation layers, so the mode does not matter here
                vmse, _ = run_eval(model, val_loader, device)
                print(f"  iter {it}: train {loss.item():.4f} val {vmse:.4f}")
        vmse, vmae = run_eval(model, val_loader, device)
        print(f"epoch {epoch + 1} ({time.time() - t0:.1f}s) val mse {vmse:.4f} mae {vmae:.4f}")
        if vmse < best:
            best, bad = vmse, 0
            torch.save(model.state_dict(), ckpt)
        else:
            bad += 1
            if bad >= args.patience:
                print("early stopping")
                break
        for g in opt.param_groups:
            g["lr"] = args.lr * 0.5 ** (epoch + 1)

    model.load_state_dict(torch.load(ckpt))
    mse, mae = run_eval(model, test_loader, device)
    print(f"test mse {mse:.4f} mae {mae:.4f}")


if __name__ == "__main__":
    main()
