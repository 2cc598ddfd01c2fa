"""Fine-tunes SegNet on a small dataset with the backbone's BatchNorm statistics meant to stay
frozen; the freeze is applied once before training, but the epoch loop's model.train() undoes it."""
import torch
import torch.nn as nn

from freeze import freeze_bn_running_stats
from model import SegNet


def train(model, loader, optimizer, epochs):
    criterion = nn.CrossEntropyLoss(ignore_index=255)
    for epoch in range(epochs):
        model.train()
        for images, masks in loader:
            loss = criterion(model(images), masks)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch} done, last loss {loss.item():.4f}")


def main(loader, epochs=20):
    model = SegNet(num_classes=21)
    model.load_state_dict(torch.load("pretrained_segnet.pt"), strict=False)
    freeze_bn_running_stats(model.backbone)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=1e-4)
    train(model, loader, optimizer, epochs)
    torch.save(model.state_dict(), "segnet_finetuned.pt")


if __name__ == "__main__":
    main([])
