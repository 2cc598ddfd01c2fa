import argparse
import json

import torch
import torch.nn.functional as F
import torchvision
import torchvision.transforms as T

from nets import get_network

CIFAR10_CLASSES = ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def get_test_loader(root, batch_size, workers=4):
    tf = T.Compose([
        T.ToTensor(),
        T.Normalize((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    ])
    ds = torchvision.datasets.CIFAR10(root=root, train=False, download=False, transform=tf)
    return torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=False, num_workers=workers)


def test(net, loader, device, tta=False):
    net.eval()
    total, correct, nll = 0, 0, 0.0
    per_class_hit = torch.zeros(10)
    per_class_cnt = torch.zeros(10)
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)
        logits = net(inputs)  # expect: MG401
        if tta:
            logits = 0.5 * (logits + net(torch.flip(inputs, dims=[3])))
        nll += F.cross_entropy(logits, targets, reduction="sum").item()
        pred = logits.argmax(dim=1)
        hit = pred.eq(targets)
        correct += hit.sum().item()
        total += targets.size(0)
        for c in range(10):
            sel = targets == c
            per_class_cnt[c] += sel.sum().item()
            per_class_hit[c] += hit[sel].sum().item()
    return {
        "acc": 100.0 * correct / total,
        "nll": nll / total,
        "per_class": {CIFAR10_CLASSES[c]: round(100.0 * (per_class_hit[c] / per_class_cnt[c]).item(), 2)
                      for c in range(10)},
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="CIFAR-10 checkpoint evaluation")
    parser.add_argument("--arch", default="resnet18")
    parser.add_argument("--ckpt", required=True)
    parser.add_argument("--data", default="./data")
    parser.add_argument("--bs", type=int, default=256)
    parser.add_argument("--tta", action="store_true")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    net = get_network(args.arch, num_classes=10)
    ckpt = torch.load(args.ckpt, map_location="cpu")
    net.load_state_dict(ckpt["net"])
    net = net.to(device)
    print("checkpoint epoch %s, reported acc %.2f" % (ckpt.get("epoch"), ckpt.get("acc", float("nan"))))

    result = test(net, get_test_loader(args.data, args.bs), device, tta=args.tta)
    print("top-1 %.2f%%  nll %.4f" % (result["acc"], result["nll"]))
    for name, acc in result["per_class"].items():
        print("  %-6s %.2f" % (name, acc))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
