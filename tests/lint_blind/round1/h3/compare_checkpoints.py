"""Evaluate several trained classifiers on the same held-out splits and tabulate them.

    python compare_checkpoints.py resnet50=ckpt/r50.pt convnext_t=ckpt/cnx.pt --tta
"""
import argparse
from functools import partial

import pandas as pd
import torch
import torchvision.models as tvm
from torch.utils.data import DataLoader

from eval_data import SPLITS, build_split

REGISTRY = {
    "resnet50": partial(tvm.resnet50, num_classes=200),
    "convnext_t": partial(tvm.convnext_tiny, num_classes=200),
    "effnet_b2": partial(tvm.efficientnet_b2, num_classes=200),
    "vit_b16": partial(tvm.vit_b_16, num_classes=200),
}


@torch.inference_mode()
def score_split(net, loader, device, tta=False):
    """Accuracy and mean confidence of `net`, which the caller has put in eval mode."""
    correct, conf_sum, n = 0, 0.0, 0
    for images, targets in loader:
        images, targets = images.to(device, non_blocking=True), targets.to(device)
        logits = net(images)
        if tta:
            logits = (logits + net(images.flip(-1))) / 2
        probs = logits.softmax(-1)
        conf, pred = probs.max(-1)
        correct += (pred == targets).sum().item()
        conf_sum += conf.sum().item()
        n += targets.numel()
    return {"acc": 100.0 * correct / n, "conf": 100.0 * conf_sum / n}


def restore(name, path, device):
    net = REGISTRY[name]()
    state = torch.load(path, map_location="cpu")
    state = state.get("model", state)
    state = {k.replace("module.", "", 1): v for k, v in state.items()}
    net.load_state_dict(state)
    return net.to(device).eval()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("runs", nargs="+", help="arch=checkpoint pairs")
    ap.add_argument("--splits", nargs="*", default=list(SPLITS))
    ap.add_argument("--bs", type=int, default=128)
    ap.add_argument("--tta", action="store_true")
    ap.add_argument("--out", default="comparison.csv")
    args = ap.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    loaders = {s: DataLoader(build_split(s), batch_size=args.bs, num_workers=8) for s in args.splits}

    rows = []
    for spec in args.runs:
        arch, path = spec.split("=", 1)
        net = restore(arch, path, device)
        for split, loader in loaders.items():
            res = score_split(net, loader, device, tta=args.tta)
            rows.append({"arch": arch, "ckpt": path, "split": split, **res})
            print(f"{arch:12s} {split:10s} acc {res['acc']:.2f} conf {res['conf']:.2f}")
        del net
        if device.type == "cuda":
            torch.cuda.empty_cache()

    df = pd.DataFrame(rows)
    df["overconf"] = df["conf"] - df["acc"]
    table = df.pivot_table(index="arch", columns="split", values="acc")
    table["mean"] = table.mean(axis=1)
    print(table.sort_values("mean", ascending=False).round(2).to_markdown())
    df.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
