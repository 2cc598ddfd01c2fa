"""TDNN x-vector speaker embedding network + training entry point (VoxCeleb1 dev)."""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F

from spkr.data import voxceleb_loaders
from spkr.scoring import compute_eer


class TDNNLayer(nn.Sequential):
    def __init__(self, c_in, c_out, context, dilation):
        super().__init__(
            nn.Conv1d(c_in, c_out, kernel_size=context, dilation=dilation),
            nn.ReLU(inplace=True),
            nn.BatchNorm1d(c_out),
        )


class StatsPool(nn.Module):
    def forward(self, x):
        return torch.cat([x.mean(dim=-1), x.std(dim=-1)], dim=-1)


class XVector(nn.Module):
    def __init__(self, feat_dim=30, emb_dim=512, n_speakers=1211, freeze_bn=False):
        super().__init__()
        self.frame = nn.Sequential(
            TDNNLayer(feat_dim, 512, 5, 1),
            TDNNLayer(512, 512, 3, 2),
            TDNNLayer(512, 512, 3, 3),
            TDNNLayer(512, 512, 1, 1),
            TDNNLayer(512, 1500, 1, 1),
        )
        self.pool = StatsPool()
        self.segment6 = nn.Linear(3000, emb_dim)
        self.bn6 = nn.BatchNorm1d(emb_dim)
        self.segment7 = nn.Linear(emb_dim, emb_dim)
        self.bn7 = nn.BatchNorm1d(emb_dim)
        self.classifier = nn.Linear(emb_dim, n_speakers)
        self.freeze_bn = freeze_bn  # expect: MG104

    def freeze_bn(self):
        for m in self.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.eval()

    def embed(self, feats):
        return self.segment6(self.pool(self.frame(feats)))

    def forward(self, feats):
        x = self.bn6(F.relu(self.embed(feats)))
        x = self.bn7(F.relu(self.segment7(x)))
        return self.classifier(x)


def run(args):
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_dl, trials = voxceleb_loaders(args.root, batch_size=args.batch_size)
    net = XVector(feat_dim=args.feat_dim, freeze_bn=args.freeze_bn).to(device)
    opt = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.1)

    for epoch in range(args.epochs):
        net.train()
        for feats, spk in train_dl:
            loss = F.cross_entropy(net(feats.to(device)), spk.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()

        net.eval()
        with torch.no_grad():
            emb = {utt: net.embed(f.to(device).unsqueeze(0)).squeeze(0).cpu()
                   for utt, f in trials.utterances()}
        eer = compute_eer(trials.pairs, emb)
        print(f"epoch {epoch}: loss {loss.item():.3f} EER {eer:.2%}")
        torch.save({"model": net.state_dict(), "epoch": epoch, "eer": eer, "freeze_bn": net.freeze_bn},
                   f"{args.out}/xvector_{epoch:03d}.pt")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="/data/voxceleb1")
    ap.add_argument("--feat-dim", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--freeze-bn", action="store_true")
    ap.add_argument("--out", default="exp/xvector")
    run(ap.parse_args())
