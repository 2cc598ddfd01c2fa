"""Linear / MLP probe on top of a frozen self-supervised ResNet-50 trunk.

The trunk (BatchNorm included) never changes: it is kept in inference mode by
``ProbeModel.train`` whatever the outer loop does, and receives no gradients.
"""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision import transforms as T


class ProbeModel(nn.Module):
    def __init__(self, trunk_ckpt, num_classes, hidden=0):
        super().__init__()
        trunk = torchvision.models.resnet50()
        trunk.fc = nn.Identity()
        msg = trunk.load_state_dict(torch.load(trunk_ckpt, map_location="cpu"), strict=False)
        print("trunk load:", msg)
        self.trunk = trunk.requires_grad_(False)
        if hidden:
            self.head = nn.Sequential(nn.BatchNorm1d(2048, affine=False), nn.Linear(2048, hidden),
                                      nn.ReLU(inplace=True), nn.Dropout(0.5), nn.Linear(hidden, num_classes))
        else:
            self.head = nn.Sequential(nn.BatchNorm1d(2048, affine=False), nn.Linear(2048, num_classes))

    def train(self, mode: bool = True):
        super().train(mode)
        self.trunk.eval()
        return self

    def forward(self, x):
        with torch.no_grad():
            feats = self.trunk(x)
        return self.head(feats)


def loaders(root, bs):
    norm = T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    tr = T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor(), norm])
    te = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), norm])
    ds_tr = torchvision.datasets.ImageFolder(f"{root}/train", tr)
    ds_te = torchvision.datasets.ImageFolder(f"{root}/val", te)
    return (torch.utils.data.DataLoader(ds_tr, bs, shuffle=True, num_workers=12, drop_last=True),
            torch.utils.data.DataLoader(ds_te, 256, num_workers=12), len(ds_tr.classes))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/data/inat-mini")
    ap.add_argument("--trunk", required=True)
    ap.add_argument("--hidden", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=90)
    args = ap.parse_args()

    train_dl, val_dl, n_cls = loaders(args.data, 256)
    probe = ProbeModel(args.trunk, n_cls, args.hidden).cuda()
    opt = torch.optim.SGD(probe.head.parameters(), lr=0.1, momentum=0.9, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.epochs)

    for ep in range(args.epochs):
        probe.train()
        for x, y in train_dl:
            loss = F.cross_entropy(probe(x.cuda(non_blocking=True)), y.cuda(non_blocking=True))
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()

        if ep % 10 == 9 or ep == args.epochs - 1:
            probe.eval()
            correct = seen = 0
            with torch.inference_mode():
                for x, y in val_dl:
                    correct += (probe(x.cuda()).argmax(1).cpu() == y).sum().item()
                    seen += y.numel()
            print(f"epoch {ep + 1}: top-1 {100 * correct / seen:.2f}")
    torch.save(probe.head.state_dict(), "probe_head.pth")


if __name__ == "__main__":
    main()
