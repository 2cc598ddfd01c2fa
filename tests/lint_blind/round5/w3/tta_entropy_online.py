"""Online entropy minimisation on CIFAR-10-C (TENT-like), variant that keeps running stats.

Only the BatchNorm affine parameters are updated; the BN running estimates are kept
and drift toward the target distribution with a small momentum.
"""
import argparse

import torch
import torch.nn as nn

from robustbench.data import load_cifar10c
from robustbench.utils import load_model

CORRUPTIONS = ["gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur",
               "glass_blur", "motion_blur", "zoom_blur", "snow", "frost", "fog",
               "brightness", "contrast", "elastic_transform", "pixelate", "jpeg_compression"]


def bn_affine_params(model):
    params, names = [], []
    for mod_name, m in model.named_modules():
        if isinstance(m, nn.BatchNorm2d):
            for p_name, p in m.named_parameters():
                if p_name in ("weight", "bias"):
                    params.append(p)
                    names.append(f"{mod_name}.{p_name}")
    return params, names


def setup_adaptation(model, bn_momentum):
    model.train()
    model.requires_grad_(False)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.requires_grad_(True)
            m.momentum = bn_momentum
    return model


def softmax_entropy(logits):
    return -(logits.softmax(1) * logits.log_softmax(1)).sum(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="Standard")
    ap.add_argument("--severity", type=int, default=5)
    ap.add_argument("--bs", type=int, default=200)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--bn-momentum", type=float, default=0.01)
    ap.add_argument("--n-examples", type=int, default=10000)
    ap.add_argument("--report-running-stats-acc", action="store_true",
                    help="also report accuracy when normalising with the running estimates")
    args = ap.parse_args()

    base = load_model(args.arch, "./ckpt", "cifar10", "corruptions")
    model = setup_adaptation(base, args.bn_momentum).cuda()
    params, names = bn_affine_params(model)
    print(f"adapting {len(names)} tensors")
    optimizer = torch.optim.Adam(params, lr=args.lr, betas=(0.9, 0.999))

    for corruption in CORRUPTIONS:
        x_test, y_test = load_cifar10c(args.n_examples, args.severity, "./data", False, [corruption])
        hits_adapt, hits_running = 0, 0
        for i in range(0, len(x_test), args.bs):
            x = x_test[i:i + args.bs].cuda()
            y = y_test[i:i + args.bs].cuda()
            if args.report_running_stats_acc:
                model.eval()  # expect: MG101
                with torch.no_grad():
                    hits_running += (model(x).argmax(1) == y).sum().item()
            outputs = model(x)
            loss = softmax_entropy(outputs).mean(0)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            hits_adapt += (outputs.argmax(1) == y).sum().item()
        msg = f"{corruption:>18s}  err(adapt) {1 - hits_adapt / len(x_test):.2%}"
        if args.report_running_stats_acc:
            msg += f"  err(running) {1 - hits_running / len(x_test):.2%}"
        print(msg)


if __name__ == "__main__":
    main()
