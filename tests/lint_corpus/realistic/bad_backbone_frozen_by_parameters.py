"""Fine-tunes a new classification head on top of a pretrained ResNet-50 for a flower dataset.

The backbone is "frozen" only by switching off requires_grad; model.train() at the start of every
epoch still puts its BatchNorm layers in training mode, so their running statistics keep drifting
towards the new data even though no backbone weight is ever updated.
"""
import torch
import torch.nn as nn
import torchvision


def build_model(num_classes):
    backbone = torchvision.models.resnet50(weights=torchvision.models.ResNet50_Weights.IMAGENET1K_V2)
    backbone.fc = nn.Identity()
    for p in backbone.parameters():
        p.requires_grad = False  # expect: MG302
    head = nn.Sequential(nn.Dropout(0.2), nn.Linear(2048, num_classes))
    return nn.Sequential(backbone, head), head


def evaluate(model, loader):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            preds = model(images).argmax(dim=1)
            correct += (preds == labels).sum().item()
            total += labels.numel()
    return correct / max(total, 1)


def fit(train_loader, val_loader, num_classes=102, epochs=15):
    model, head = build_model(num_classes)
    optimizer = torch.optim.AdamW(head.parameters(), lr=3e-4, weight_decay=1e-4)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    for epoch in range(epochs):
        model.train()
        running = 0.0
        for images, labels in train_loader:
            loss = criterion(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            running += loss.item()
        acc = evaluate(model, val_loader)
        print(f"epoch {epoch}: loss {running / max(len(train_loader), 1):.4f}  val acc {acc:.3f}")
    return model


if __name__ == "__main__":
    fit([], [])
