"""Linear probe of a pretrained ResNet-50: the backbone's weights are frozen with requires_grad and
the training function deliberately keeps the whole model in eval mode, so the classifier is fitted
on the backbone's fixed ImageNet statistics and only the linear layer changes."""
import torch
import torch.nn as nn
import torchvision


def build_probe(num_classes):
    backbone = torchvision.models.resnet50(weights=torchvision.models.ResNet50_Weights.IMAGENET1K_V1)
    backbone.fc = nn.Identity()
    for p in backbone.parameters():
        p.requires_grad = False
    head = nn.Linear(2048, num_classes)
    return nn.Sequential(backbone, head), head


def train_probe(model, loader, optimizer, criterion):
    model.eval()  # probe protocol: BatchNorm keeps its pretrained running statistics
    total = 0.0
    for images, labels in loader:
        loss = criterion(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / max(len(loader), 1)


@torch.no_grad()
def top1(model, loader):
    model.eval()
    hits = seen = 0
    for images, labels in loader:
        hits += (model(images).argmax(1) == labels).sum().item()
        seen += labels.numel()
    return hits / max(seen, 1)


def main(train_loader, test_loader, num_classes=1000, epochs=90):
    model, head = build_probe(num_classes)
    optimizer = torch.optim.SGD(head.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        loss = train_probe(model, train_loader, optimizer, criterion)
        scheduler.step()
        print(f"epoch {epoch} loss {loss:.3f} top1 {top1(model, test_loader):.3f}")
