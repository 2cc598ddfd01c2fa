"""U-Net training: the Dice score on the validation set is computed with the net in training mode."""
import torch
import torch.nn as nn


class UNet(nn.Module):
    def __init__(self, n_channels=3, n_classes=1):
        super().__init__()
        self.inc = nn.Sequential(nn.Conv2d(n_channels, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(inplace=True))
        self.outc = nn.Conv2d(64, n_classes, 1)

    def forward(self, x):
        return self.outc(self.inc(x))


def dice_coeff(pred, target):
    inter = (pred * target).sum()
    return (2 * inter + 1e-4) / (pred.sum() + target.sum() + 1e-4)


def eval_net(net, dataset):
    tot = 0
    for i, (img, true_mask) in enumerate(dataset):
        mask_pred = net(img)  # expect: MG102, MG401
        tot += dice_coeff((torch.sigmoid(mask_pred) > 0.5).float(), true_mask).item()
    return tot / (i + 1)


def train_net(net, train_loader, val_loader, epochs=5, lr=0.1):
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, weight_decay=0.0005)
    criterion = nn.BCEWithLogitsLoss()
    for epoch in range(epochs):
        net.train()
        for imgs, true_masks in train_loader:
            loss = criterion(net(imgs), true_masks)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        val_dice = eval_net(net, val_loader)
        print(f"epoch {epoch}: validation Dice {val_dice:.4f}")
