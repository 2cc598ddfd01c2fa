"""Fine-tune a pretrained DenseNet-121 on CUB-200 birds; keeps the weights of the best
validation epoch in memory and writes them at the end."""
from __future__ import print_function, division

import argparse
import copy
import os
import time

import torch
import torch.nn as nn
import torch.optim as optim
from torchvision import datasets, models, transforms


def get_data(root, bs):
    tfs = {
        "train": transforms.Compose([
            transforms.RandomResizedCrop(448),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])]),
        "val": transforms.Compose([
            transforms.Resize(512),
            transforms.CenterCrop(448),
            transforms.ToTensor(),
            transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])]),
    }
    sets = {k: datasets.ImageFolder(os.path.join(root, k), tfs[k]) for k in tfs}
    loaders = {k: torch.utils.data.DataLoader(sets[k], batch_size=bs, shuffle=(k == "train"),
                                              num_workers=8) for k in sets}
    return loaders, {k: len(v) for k, v in sets.items()}, len(sets["train"].classes)


def fit(net, loaders, sizes, criterion, optimizer, scheduler, device, num_epochs):
    since = time.time()
    best_state = copy.deepcopy(net.state_dict())
    best_acc = 0.0

    for epoch in range(num_epochs):
        print("Epoch {}/{}".format(epoch, num_epochs - 1))
        for phase in ["train", "val"]:
            net.train(phase == "train")
            running_loss, running_hits = 0.0, 0

            for inputs, labels in loaders[phase]:
                inputs, labels = inputs.to(device), labels.to(device)
                optimizer.zero_grad()
                with torch.set_grad_enabled(phase == "train"):
                    outputs = net(inputs)
                    loss = criterion(outputs, labels)
                    preds = outputs.argmax(1)
                    if phase == "train":
                        loss.backward()
                        optimizer.step()
                running_loss += loss.item() * inputs.size(0)
                running_hits += torch.sum(preds == labels).item()

            if phase == "train":
                scheduler.step()
            epoch_loss = running_loss / sizes[phase]
            epoch_acc = running_hits / sizes[phase]
            print("{} Loss: {:.4f} Acc: {:.4f}".format(phase, epoch_loss, epoch_acc))

            if phase == "val" and epoch_acc > best_acc:
                best_acc = epoch_acc
                best_state = copy.deepcopy(net.state_dict())

    elapsed = time.time() - since
    print("Training complete in {:.0f}m {:.0f}s".format(elapsed // 60, elapsed % 60))
    print("Best val Acc: {:.4f}".format(best_acc))
    net.load_state_dict(best_state)
    return net


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/CUB_200_2011/split")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--bs", type=int, default=16)
    args = ap.parse_args()

    device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    loaders, sizes, n_cls = get_data(args.data, args.bs)

    net = models.densenet121(weights=models.DenseNet121_Weights.DEFAULT)
    net.classifier = nn.Linear(net.classifier.in_features, n_cls)
    net = net.to(device)

    head_params = list(net.classifier.parameters())
    trunk_params = list(net.features.parameters())
    optimizer = optim.SGD([{"params": trunk_params, "lr": 0.001},
                           {"params": head_params, "lr": 0.01}], momentum=0.9)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.1)
    net = fit(net, loaders, sizes, nn.CrossEntropyLoss(), optimizer, scheduler, device,
              args.epochs)
    torch.save(net.state_dict(), "densenet121_cub_best.pth")
