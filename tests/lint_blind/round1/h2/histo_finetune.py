"""Fine-tune an ImageNet ResNet-50 on histopathology tiles (binary tumour / normal).

The staining distribution differs a lot between centres, and with 16 tiles per
batch we prefer to keep the pretrained BatchNorm layers frozen.
"""
import argparse
import time

import torch
import torch.nn as nn
import timm

from histo.datasets import TileDataset, default_transforms


class TileClassifier(nn.Module):
    def __init__(self, arch="resnet50", n_classes=2, freeze_bn=True, drop=0.3):
        super().__init__()
        self.encoder = timm.create_model(arch, pretrained=True, num_classes=0)
        if freeze_bn:
            # pretrained BN layers are not fine-tuned
            for mod in self.encoder.modules():
                if isinstance(mod, nn.BatchNorm2d):
                    for prm in mod.parameters():
                        prm.requires_grad = False  # expect: MG302
        self.head = nn.Sequential(nn.Dropout(drop), nn.Linear(self.encoder.num_features, n_classes))

    def forward(self, x):
        return self.head(self.encoder(x))


@torch.no_grad()
def evaluate(clf, loader, device):
    clf.eval()
    correct = seen = 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        correct += (clf(x).argmax(1) == y).sum().item()
        seen += y.numel()
    clf.train()
    return correct / max(seen, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train-csv", required=True)
    ap.add_argument("--val-csv", required=True)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--eval-every", type=int, default=500)
    args = ap.parse_args()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    clf = TileClassifier().to(device)
    train_dl = torch.utils.data.DataLoader(TileDataset(args.train_csv, default_transforms(True)),
                                           batch_size=args.batch, shuffle=True, num_workers=8, drop_last=True)
    val_dl = torch.utils.data.DataLoader(TileDataset(args.val_csv, default_transforms(False)),
                                         batch_size=64, num_workers=8)
    trainable = [p for p in clf.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=3e-4, weight_decay=0.05)
    crit = nn.CrossEntropyLoss(label_smoothing=0.1)

    step, best = 0, 0.0
    clf.train()
    for epoch in range(args.epochs):
        t0 = time.time()
        for x, y in train_dl:
            x, y = x.to(device), y.to(device)
            loss = crit(clf(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step % args.eval_every == 0:
                acc = evaluate(clf, val_dl, device)
                if acc > best:
                    best = acc
                    torch.save(clf.state_dict(), "best_tiles.pt")
                print(f"step {step}: val acc {acc:.4f} (best {best:.4f})")
        print(f"epoch {epoch} done in {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
