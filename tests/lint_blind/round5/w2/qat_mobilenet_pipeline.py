"""Quantization-aware training of MobileNetV2 for an on-device product-photo classifier.

Recipe: fuse -> prepare_qat -> fine-tune; observers are frozen after a few epochs and BN
statistics are frozen shortly after; each epoch an int8 copy is converted and evaluated.
"""
import copy
import time

import torch
import torch.ao.nn.intrinsic.qat as nniqat
import torch.ao.quantization as tq
import torch.nn as nn
from torchvision.models.quantization import mobilenet_v2

from products.data import build_loaders

CFG = {
    "num_classes": 312,
    "float_ckpt": "weights/mnv2_products_fp32.pth",
    "epochs": 8,
    "lr": 1e-4,
    "freeze_observers_at": 4,
    "freeze_bn_at": 3,
    "backend": "x86",
}


def train_one_epoch(model, loader, optimizer, criterion, device, log_every=200):
    model.train()
    t0 = time.time()
    for i, (images, target) in enumerate(loader):
        output = model(images.to(device))
        loss = criterion(output, target.to(device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if i % log_every == 0:
            print(f"  it {i:5d} loss {loss.item():.4f} ({time.time() - t0:.0f}s)")


def evaluate(model, loader, device, max_batches=None):
    model.eval()
    correct = seen = 0
    with torch.no_grad():
        for i, (images, target) in enumerate(loader):
            if max_batches is not None and i >= max_batches:
                break
            pred = model(images.to(device)).argmax(1).cpu()
            correct += (pred == target).sum().item()
            seen += target.numel()
    return correct / max(seen, 1)


def main():
    torch.backends.quantized.engine = CFG["backend"]
    train_loader, val_loader = build_loaders(batch_size=64)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    model = mobilenet_v2(weights=None, quantize=False, num_classes=CFG["num_classes"])
    model.load_state_dict(torch.load(CFG["float_ckpt"], map_location="cpu"))
    model.train()
    model.fuse_model(is_qat=True)
    model.qconfig = tq.get_default_qat_qconfig(CFG["backend"])
    tq.prepare_qat(model, inplace=True)
    model.to(device)

    optimizer = torch.optim.SGD(model.parameters(), lr=CFG["lr"], momentum=0.9, weight_decay=4e-5)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    best = 0.0
    for epoch in range(CFG["epochs"]):
        train_one_epoch(model, train_loader, optimizer, criterion, device)
        if epoch >= CFG["freeze_observers_at"]:
            model.apply(tq.disable_observer)
        if epoch >= CFG["freeze_bn_at"]:
            model.apply(nniqat.freeze_bn_stats)

        fq_acc = evaluate(model, val_loader, device, max_batches=100)

        int8 = copy.deepcopy(model).to("cpu")
        int8.eval()
        int8 = tq.convert(int8, inplace=False)
        int8_acc = evaluate(int8, val_loader, "cpu", max_batches=100)
        print(f"epoch {epoch}: fake-quant acc {fq_acc:.4f} | int8 acc {int8_acc:.4f}")
        if int8_acc > best:
            best = int8_acc
            torch.jit.save(torch.jit.script(int8), "mnv2_products_int8.pt")
    print(f"best int8 accuracy {best:.4f}")


if __name__ == "__main__":
    main()
