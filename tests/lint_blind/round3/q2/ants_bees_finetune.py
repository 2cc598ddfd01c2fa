"""Fine-tune all layers of an ImageNet ResNet-18 on a tiny two-class
insect dataset (~120 training images per class).  Course project, week 6."""
import copy
import os
import time

import numpy as np
import torch
import torch.nn as nn
from torchvision import datasets, models, transforms
import matplotlib.pyplot as plt

ROOT = "data/insects"
IMNET_MEAN = np.array([0.485, 0.456, 0.406])
IMNET_STD = np.array([0.229, 0.224, 0.225])

augment = {
    "train": transforms.Compose([
        transforms.RandomResizedCrop(224, scale=(0.5, 1.0)),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(IMNET_MEAN.tolist(), IMNET_STD.tolist()),
    ]),
    "val": transforms.Compose([
        transforms.Resize(256),
        transforms.CenterCrop(224),
        transforms.ToTensor(),
        transforms.Normalize(IMNET_MEAN.tolist(), IMNET_STD.tolist()),
    ]),
}
splits = {s: datasets.ImageFolder(os.path.join(ROOT, s), augment[s]) for s in ("train", "val")}
loaders = {s: torch.utils.data.DataLoader(splits[s], batch_size=16, shuffle=(s == "train"), num_workers=4)
           for s in ("train", "val")}
labels_txt = splits["train"].classes
gpu = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")


def run_phases(net, loss_fn, opt, sched, n_epochs=20):
    tic = time.time()
    keep = copy.deepcopy(net.state_dict())
    top = 0.0
    for ep in range(n_epochs):
        for phase in ("train", "val"):
            is_train = phase == "train"
            net.train(is_train)
            tot_loss, tot_ok = 0.0, 0
            for xb, yb in loaders[phase]:
                xb, yb = xb.to(gpu), yb.to(gpu)
                opt.zero_grad()
                with torch.set_grad_enabled(is_train):
                    logits = net(xb)
                    loss = loss_fn(logits, yb)
                    if is_train:
                        loss.backward()
                        opt.step()
                tot_loss += loss.item() * xb.size(0)
                tot_ok += (logits.argmax(1) == yb).sum().item()
            if is_train:
                sched.step()
            n = len(splits[phase])
            print(f"[{ep:02d}] {phase:5s} loss={tot_loss / n:.4f} acc={tot_ok / n:.3f}")
            if not is_train and tot_ok / n > top:
                top = tot_ok / n
                keep = copy.deepcopy(net.state_dict())
    print(f"done in {time.time() - tic:.0f}s, best val acc {top:.3f}")
    net.load_state_dict(keep)
    return net


def show_some(net, how_many=6):
    prev_mode = net.training
    net.eval()
    shown = 0
    plt.figure(figsize=(8, 8))
    with torch.no_grad():
        for xb, _ in loaders["val"]:
            guesses = net(xb.to(gpu)).argmax(1).cpu()
            for img, g in zip(xb, guesses):
                shown += 1
                ax = plt.subplot(how_many // 2, 2, shown)
                ax.imshow(np.clip(img.numpy().transpose(1, 2, 0) * IMNET_STD + IMNET_MEAN, 0, 1))
                ax.set_title(f"pred: {labels_txt[g]}")
                ax.axis("off")
                if shown == how_many:
                    break
            if shown == how_many:
                break
    net.train(prev_mode)
    plt.show()


backbone = models.resnet18(weights="IMAGENET1K_V1")
backbone.fc = nn.Linear(backbone.fc.in_features, len(labels_txt))
backbone = backbone.to(gpu)
sgd = torch.optim.SGD(backbone.parameters(), lr=1e-3, momentum=0.9)
step_lr = torch.optim.lr_scheduler.StepLR(sgd, step_size=7, gamma=0.1)

backbone = run_phases(backbone, nn.CrossEntropyLoss(), sgd, step_lr, n_epochs=20)
show_some(backbone)
