import torch
import torch.nn as nn

from metrics import eval_net, predict_masks
from unet import UNet


def train_net(net, train_loader, val_set, epochs=5):
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    criterion = nn.BCEWithLogitsLoss()
    for epoch in range(epochs):
        net.train()
        for imgs, masks in train_loader:
            loss = criterion(net(imgs), masks)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        print("validation accuracy", eval_net(net, val_set))
    net.eval()
    return predict_masks(net, [img for img, _ in val_set])


if __name__ == "__main__":
    train_net(UNet(), [], [])
