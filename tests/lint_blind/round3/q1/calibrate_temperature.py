"""Post-hoc calibration of a trained classifier with temperature scaling.

    python calibrate_temperature.py --arch resnet50 --ckpt best.pth --data /data/cifar100
"""
import argparse

import timm
import torch
import torch.nn as nn
import torch.nn.functional as F

from datasets import make_split_loaders


class ECE(nn.Module):
    def __init__(self, n_bins=15):
        super().__init__()
        self.register_buffer("edges", torch.linspace(0, 1, n_bins + 1), persistent=False)

    def forward(self, logits, labels):
        conf, pred = F.softmax(logits, dim=1).max(1)
        acc = pred.eq(labels).float()
        ece = torch.zeros((), device=logits.device)
        for lo, hi in zip(self.edges[:-1], self.edges[1:]):
            m = (conf > lo) & (conf <= hi)
            if m.any():
                ece += m.float().mean() * (conf[m].mean() - acc[m].mean()).abs()
        return ece


class TemperatureScaler(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model
        self.log_t = nn.Parameter(torch.zeros(1))

    @property
    def temperature(self):
        return self.log_t.exp()

    def forward(self, x):
        return self.model(x) / self.temperature

    def fit(self, loader, device, max_iter=100):
        """Tune T on held-out data by minimising NLL; the network weights stay fixed."""
        logits_list, labels_list = [], []
        with torch.no_grad():
            for x, y in loader:
                logits_list.append(self.model(x.to(device)))  # expect: MG102
                labels_list.append(y.to(device))
        logits = torch.cat(logits_list)
        labels = torch.cat(labels_list)

        ece = ECE().to(device)
        before_nll = F.cross_entropy(logits, labels).item()
        before_ece = ece(logits, labels).item()

        opt = torch.optim.LBFGS([self.log_t], lr=0.01, max_iter=max_iter)

        def closure():
            opt.zero_grad()
            loss = F.cross_entropy(logits / self.temperature, labels)
            loss.backward()
            return loss

        opt.step(closure)
        after_nll = F.cross_entropy(logits / self.temperature, labels).item()
        after_ece = ece(logits / self.temperature, labels).item()
        print(f"T = {self.temperature.item():.3f} | NLL {before_nll:.4f} -> {after_nll:.4f} | "
              f"ECE {before_ece:.4f} -> {after_ece:.4f}")
        return self


@torch.no_grad()
def test_metrics(net, loader, device):
    net.eval()
    ece = ECE().to(device)
    all_logits, all_labels = [], []
    for x, y in loader:
        all_logits.append(net(x.to(device)))
        all_labels.append(y.to(device))
    logits, labels = torch.cat(all_logits), torch.cat(all_labels)
    acc = (logits.argmax(1) == labels).float().mean().item()
    return {"acc": acc, "nll": F.cross_entropy(logits, labels).item(), "ece": ece(logits, labels).item()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="resnet50")
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--num_classes", type=int, default=100)
    ap.add_argument("--val_size", type=int, default=5000)
    args = ap.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = timm.create_model(args.arch, num_classes=args.num_classes, drop_rate=0.2)
    model.load_state_dict(torch.load(args.ckpt, map_location="cpu"))
    model.to(device)
    val_loader, test_loader = make_split_loaders(args.data, val_size=args.val_size, batch_size=512)

    scaled = TemperatureScaler(model).to(device)
    scaled.fit(val_loader, device)
    print("uncalibrated:", test_metrics(model, test_loader, device))
    print("calibrated:  ", test_metrics(scaled, test_loader, device))
    torch.save({"temperature": scaled.temperature.item()}, args.ckpt.replace(".pth", "_T.pth"))


if __name__ == "__main__":
    main()
