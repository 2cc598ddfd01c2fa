"""Fine-tune a face embedding network with a CosFace (large-margin cosine) head on a
small in-house identity set. Weights were converted from the MXNet insightface model zoo.
"""
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
import yaml

from facekit.backbones import mobilefacenet_trunk
from facekit.data import IdentityFolder, lfw_pairs
from facekit.verify import best_threshold_accuracy

CONFIG = """
data_root: /data/faces/inhouse_aligned
pretrained: weights/mfn_ms1m_converted.pth
embedding: 512
scale: 64.0
margin: 0.35
lr: 0.01
epochs: 15
batch_size: 128
freeze_bn_affine: true
"""


class EmbeddingHead(nn.Module):
    """GDC-style output block, mirrors the MXNet symbol definition."""

    def __init__(self, in_ch=512, emb=512):
        super().__init__()
        self.dw = nn.Conv2d(in_ch, in_ch, 7, groups=in_ch, bias=False)
        self.bn_dw = nn.BatchNorm2d(in_ch)
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(in_ch, emb, bias=False)
        self.bn_out = nn.BatchNorm1d(emb, eps=2e-5, momentum=0.9)  # expect: MG303

    def forward(self, x):
        x = self.bn_dw(self.dw(x)).flatten(1)
        return self.bn_out(self.fc(self.drop(x)))


class CosFaceLoss(nn.Module):
    def __init__(self, emb, n_ids, s=64.0, m=0.35):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_ids, emb))
        nn.init.normal_(self.weight, std=0.01)
        self.s, self.m = s, m

    def forward(self, emb, labels):
        cos = F.linear(F.normalize(emb), F.normalize(self.weight)).clamp(-1, 1)
        onehot = F.one_hot(labels, cos.size(1)).to(cos.dtype)
        return F.cross_entropy(self.s * (cos - self.m * onehot), labels)


def build(cfg, n_ids):
    net = nn.Sequential(mobilefacenet_trunk(), EmbeddingHead(emb=cfg["embedding"]))
    state = torch.load(cfg["pretrained"], map_location="cpu")
    missing, _ = net.load_state_dict(state, strict=False)
    print("missing keys:", missing)
    if cfg["freeze_bn_affine"]:
        # small dataset: keep the BN layers of the trunk as trained on MS1M
        for m in net[0].modules():
            if isinstance(m, nn.BatchNorm2d):
                m.requires_grad_(False)  # expect: MG302
    return net, CosFaceLoss(cfg["embedding"], n_ids, cfg["scale"], cfg["margin"])


def verify(net, pairs_loader, device):
    net.eval()
    sims, same = [], []
    with torch.no_grad():
        for a, b, label in pairs_loader:
            ea = F.normalize(net(a.to(device)) + net(torch.flip(a, dims=[3]).to(device)))
            eb = F.normalize(net(b.to(device)) + net(torch.flip(b, dims=[3]).to(device)))
            sims.append((ea * eb).sum(1).cpu())
            same.append(label)
    return best_threshold_accuracy(torch.cat(sims), torch.cat(same))


def main():
    cfg = yaml.safe_load(CONFIG)
    device = "cuda"
    train_set = IdentityFolder(cfg["data_root"], flip=True)
    loader = torch.utils.data.DataLoader(train_set, batch_size=cfg["batch_size"], shuffle=True,
                                         num_workers=8, drop_last=True)
    net, criterion = build(cfg, train_set.num_identities)
    net, criterion = net.to(device), criterion.to(device)
    params = [p for p in net.parameters() if p.requires_grad] + list(criterion.parameters())
    opt = torch.optim.SGD(params, lr=cfg["lr"], momentum=0.9, weight_decay=5e-4)
    steps = cfg["epochs"] * len(loader)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / steps)))
    pairs = lfw_pairs("/data/faces/lfw_112", batch_size=256)

    for epoch in range(cfg["epochs"]):
        net.train()
        for imgs, ids in loader:
            loss = criterion(net(imgs.to(device)), ids.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        acc, thr = verify(net, pairs, device)
        print(f"epoch {epoch} loss {loss.item():.3f} LFW acc {acc:.4f} @ {thr:.3f}")
        torch.save(net.state_dict(), os.path.join("ckpt", f"cosface_{epoch}.pth"))


if __name__ == "__main__":
    main()
