"""Linear-probe evaluation of a frozen self-supervised checkpoint.

Features are extracted once with the frozen encoder (inference mode), then a
linear probe with LayerNorm is fitted on them.
"""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from ssl_zoo import load_encoder
from ssl_zoo.data import image_split


@torch.inference_mode()
def extract(encoder, loader, device):
    encoder.eval()
    xs, ys = [], []
    for img, lbl in loader:
        xs.append(encoder(img.to(device, non_blocking=True)).float().cpu())
        ys.append(lbl)
    return torch.cat(xs), torch.cat(ys)


class Probe(nn.Module):
    def __init__(self, dim, n_cls):
        super().__init__()
        self.norm = nn.LayerNorm(dim, elementwise_affine=False)
        self.fc = nn.Linear(dim, n_cls)

    def forward(self, f):
        return self.fc(self.norm(f))


def probe_acc(probe, feats, labels):
    probe.eval()
    with torch.no_grad():
        return (probe(feats).argmax(1) == labels).float().mean().item()


def fit_probe(train_f, train_y, val_f, val_y, n_cls, epochs=100, lr=1e-3):
    probe = Probe(train_f.shape[1], n_cls)
    opt = torch.optim.AdamW(probe.parameters(), lr=lr, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    dl = DataLoader(TensorDataset(train_f, train_y), batch_size=1024, shuffle=True)
    probe.train()
    for ep in range(epochs):
        for f, y in dl:
            loss = F.cross_entropy(probe(f), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        if ep % 10 == 0:
            print(f"probe epoch {ep}: loss {loss.item():.4f} val acc {probe_acc(probe, val_f, val_y):.4f}")
    return probe


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--arch", default="vit_small")
    ap.add_argument("--data", required=True)
    args = ap.parse_args()
    device = torch.device("cuda")

    encoder = load_encoder(args.arch, args.ckpt).to(device)
    loaders = {s: DataLoader(image_split(args.data, s), batch_size=256, num_workers=8)
               for s in ("train", "val", "test")}
    feats = {s: extract(encoder, dl, device) for s, dl in loaders.items()}
    n_cls = int(feats["train"][1].max()) + 1

    probe = fit_probe(*feats["train"], *feats["val"], n_cls)
    print(f"test top-1: {probe_acc(probe, *feats['test']):.4f}")

    with torch.no_grad():
        raw = probe(feats["test"][0][:8])
    print("example logits:", raw.softmax(-1).max(-1).values.tolist())


if __name__ == "__main__":
    main()
