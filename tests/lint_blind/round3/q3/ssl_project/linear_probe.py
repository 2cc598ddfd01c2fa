"""Linear evaluation of a pretrained backbone: frozen features, trainable nn.Linear on top."""
import argparse

import timm
import torch
import torch.nn as nn

from augment import plain_loaders


@torch.no_grad()
def features(backbone, x):
    return backbone(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--arch", default="resnet18")
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--epochs", type=int, default=90)
    args = ap.parse_args()

    device = "cuda"
    backbone = timm.create_model(args.arch, num_classes=0)
    backbone.load_state_dict(torch.load(args.ckpt, map_location="cpu"))
    backbone.to(device).eval().requires_grad_(False)

    train_dl, test_dl, n_cls = plain_loaders(args.data, train_aug=True)
    probe = nn.Linear(backbone.num_features, n_cls).to(device)
    opt = torch.optim.SGD(probe.parameters(), lr=0.1, momentum=0.9, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.epochs)
    crit = nn.CrossEntropyLoss()

    for epoch in range(args.epochs):
        probe.train()
        for x, y in train_dl:
            x, y = x.to(device), y.to(device)
            loss = crit(probe(features(backbone, x)), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()

        probe.eval()
        correct = n = 0
        with torch.no_grad():
            for x, y in test_dl:
                x, y = x.to(device), y.to(device)
                correct += (probe(features(backbone, x)).argmax(1) == y).sum().item()
                n += y.numel()
        print(f"epoch {epoch}: linear top-1 {100 * correct / n:.2f}")


if __name__ == "__main__":
    main()
