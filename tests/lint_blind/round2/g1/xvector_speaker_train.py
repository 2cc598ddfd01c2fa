"""x-vector speaker embedding network (TDNN) trained with AAM-softmax on VoxCeleb.

Ported from our old Keras implementation; hyper-parameters kept identical.
"""
import argparse
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader

from voxceleb_data import SpeakerCropDataset, collate_crops


def tdnn_layer(in_dim, out_dim, context, dilation=1):
    return nn.Sequential(
        nn.Conv1d(in_dim, out_dim, context, dilation=dilation),
        nn.ReLU(inplace=True),
        nn.BatchNorm1d(out_dim, momentum=0.99, eps=1e-3),  # expect: MG303
    )


class StatsPool(nn.Module):
    def forward(self, x):
        return torch.cat([x.mean(-1), x.std(-1).clamp(min=1e-5)], dim=1)


class XVectorNet(nn.Module):
    def __init__(self, feat_dim=30, emb_dim=512, freeze_bn=False):
        super().__init__()
        self.frame = nn.Sequential(
            tdnn_layer(feat_dim, 512, 5),
            tdnn_layer(512, 512, 3, dilation=2),
            tdnn_layer(512, 512, 3, dilation=3),
            tdnn_layer(512, 512, 1),
            tdnn_layer(512, 1500, 1),
        )
        self.pool = StatsPool()
        self.segment6 = nn.Linear(3000, emb_dim)
        self.freeze_bn = freeze_bn  # expect: MG104

    def freeze_bn(self):
        for m in self.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.eval()

    def bn_parameters(self):
        for m in self.modules():
            if isinstance(m, nn.BatchNorm1d):
                yield from m.parameters()

    def forward(self, feats):
        return self.segment6(self.pool(self.frame(feats)))


class AAMSoftmax(nn.Module):
    def __init__(self, emb_dim, n_classes, margin=0.2, scale=30.0):
        super().__init__()
        self.w = nn.Parameter(torch.randn(n_classes, emb_dim) * 0.01)
        self.m, self.s = margin, scale

    def forward(self, emb, labels):
        cos = F.linear(F.normalize(emb), F.normalize(self.w)).clamp(-1 + 1e-7, 1 - 1e-7)
        theta = torch.acos(cos)
        target = torch.cos(theta + self.m)
        onehot = F.one_hot(labels, cos.size(1)).bool()
        logits = torch.where(onehot, target, cos) * self.s
        return F.cross_entropy(logits, labels)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train_list", default="lists/vox2_train.txt")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--freeze_bn", action="store_true")
    args = ap.parse_args()

    dev = torch.device("cuda")
    ds = SpeakerCropDataset(args.train_list, crop_frames=200)
    loader = DataLoader(ds, batch_size=args.batch, shuffle=True, num_workers=8,
                        collate_fn=collate_crops, drop_last=True)
    net = XVectorNet(freeze_bn=args.freeze_bn).to(dev)
    head = AAMSoftmax(512, ds.num_speakers).to(dev)

    bn_ids = {id(p) for p in net.bn_parameters()} if net.freeze_bn else set()
    params = [p for p in net.parameters() if id(p) not in bn_ids] + list(head.parameters())
    opt = torch.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=2e-4, nesterov=True)
    steps = args.epochs * len(loader)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / steps)))

    for ep in range(args.epochs):
        net.train()
        head.train()
        tot = 0.0
        for feats, spk in loader:
            feats, spk = feats.to(dev, non_blocking=True), spk.to(dev)
            loss = head(net(feats), spk)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot += loss.item()
        print(f"epoch {ep}: aam loss {tot / len(loader):.4f}")
        torch.save({"net": net.state_dict(), "head": head.state_dict()}, f"xvec_ep{ep}.pt")


if __name__ == "__main__":
    main()
