"""Hyperspectral classification: val() disables gradients but never calls eval()."""
import torch
import torch.nn as nn


class HamidaEtAl(nn.Module):
    def __init__(self, input_channels, n_classes, patch_size=5, dilation=1):
        super().__init__()
        self.conv1 = nn.Conv3d(1, 20, (3, 3, 3), stride=(1, 1, 1), dilation=dilation)
        self.bn1 = nn.BatchNorm3d(20)
        self.dropout = nn.Dropout(p=0.5)
        self.fc = nn.LazyLinear(n_classes)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        return self.fc(self.dropout(x.flatten(1)))


def val(net, data_loader, device="cpu"):
    accuracy, total = 0.0, 0.0
    with torch.no_grad():
        for batch_idx, (data, target) in enumerate(data_loader):
            data, target = data.to(device), target.to(device)
            output = net(data)  # expect: MG102
            _, output = torch.max(output, dim=1)
            accuracy += (output == target).sum().item()
            total += target.numel()
    return accuracy / total


def train(net, optimizer, criterion, data_loader, epoch, val_loader=None):
    for e in range(1, epoch + 1):
        net.train()
        for data, target in data_loader:
            optimizer.zero_grad()
            loss = criterion(net(data), target)
            loss.backward()
            optimizer.step()
        if val_loader is not None:
            print(val(net, val_loader))
