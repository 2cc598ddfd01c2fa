"""Self-training with hard pseudo-labels, a few rounds on top of a supervised warm-up.

Labeled set: a few hundred images per class; unlabeled set: a folder of raw images.
"""
import argparse

import torch
import torch.nn.functional as F
import torchvision
from torch.utils.data import ConcatDataset, DataLoader, Dataset

from data_utils import LabeledFolder, UnlabeledFolder, strong_tf, test_tf


class PseudoLabeled(Dataset):
    def __init__(self, base, indices, labels):
        self.base, self.indices, self.labels = base, indices.tolist(), labels.tolist()

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, i):
        _, img = self.base.get(self.indices[i], transform=strong_tf)
        return img, self.labels[i]


@torch.no_grad()
def assign_labels(net, loader, threshold, device):
    net.eval()  # expect: MG101
    kept_idx, kept_lbl = [], []
    for idx, x in loader:
        probs = F.softmax(net(x.to(device)), dim=1)
        conf, lbl = probs.max(dim=1)
        mask = (conf >= threshold).cpu()
        kept_idx.append(idx[mask])
        kept_lbl.append(lbl.cpu()[mask])
    return torch.cat(kept_idx), torch.cat(kept_lbl)


def top1(net, loader, device):
    was_training = net.training
    net.eval()
    hit = n = 0
    with torch.no_grad():
        for x, y in loader:
            hit += (net(x.to(device)).argmax(1).cpu() == y).sum().item()
            n += y.numel()
    net.train(was_training)
    return hit / n


def run_epochs(net, loader, opt, epochs, device):
    for _ in range(epochs):
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            loss = F.cross_entropy(net(x), y, label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            opt.step()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--labeled", required=True)
    ap.add_argument("--unlabeled", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--num-classes", type=int, default=10)
    ap.add_argument("--warmup-epochs", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--epochs-per-round", type=int, default=10)
    ap.add_argument("--threshold", type=float, default=0.9)
    ap.add_argument("--bs", type=int, default=64)
    args = ap.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"

    lab_ds = LabeledFolder(args.labeled, transform=strong_tf)
    unl_ds = UnlabeledFolder(args.unlabeled, transform=test_tf)  # yields (index, image)
    test_loader = DataLoader(LabeledFolder(args.test, transform=test_tf), batch_size=256)
    unl_loader = DataLoader(unl_ds, batch_size=256, num_workers=4)

    net = torchvision.models.resnet18(num_classes=args.num_classes).to(device)
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4, nesterov=True)

    net.train()
    run_epochs(net, DataLoader(lab_ds, batch_size=args.bs, shuffle=True, drop_last=True),
               opt, args.warmup_epochs, device)
    print(f"warm-up top1 {top1(net, test_loader, device):.4f}")

    for rnd in range(args.rounds):
        idx, lbl = assign_labels(net, unl_loader, args.threshold, device)
        print(f"round {rnd}: {len(idx)} / {len(unl_ds)} unlabeled images kept")
        mixed = ConcatDataset([lab_ds, PseudoLabeled(unl_ds, idx, lbl)])
        loader = DataLoader(mixed, batch_size=args.bs, shuffle=True, drop_last=True, num_workers=4)
        run_epochs(net, loader, opt, args.epochs_per_round, device)
        print(f"round {rnd}: top1 {top1(net, test_loader, device):.4f}")
        torch.save(net.state_dict(), f"selftrain_round{rnd}.pt")


if __name__ == "__main__":
    main()
