import torch
import torch.nn as nn
import torch.nn.functional as F


class TNet(nn.Module):
    """Predicts a k x k alignment matrix from a point set."""

    def __init__(self, k=3):
        super().__init__()
        self.k = k
        self.convs = nn.Sequential(
            nn.Conv1d(k, 64, 1), nn.BatchNorm1d(64), nn.ReLU(),
            nn.Conv1d(64, 128, 1), nn.BatchNorm1d(128), nn.ReLU(),
            nn.Conv1d(128, 1024, 1), nn.BatchNorm1d(1024), nn.ReLU(),
        )
        self.fc = nn.Sequential(
            nn.Linear(1024, 512), nn.BatchNorm1d(512), nn.ReLU(),
            nn.Linear(512, 256), nn.BatchNorm1d(256), nn.ReLU(),
            nn.Linear(256, k * k),
        )

    def forward(self, x):
        b = x.size(0)
        x = self.convs(x).max(dim=2)[0]
        eye = torch.eye(self.k, device=x.device).flatten().unsqueeze(0)
        return (self.fc(x) + eye).view(b, self.k, self.k)


class PointNetCls(nn.Module):
    def __init__(self, num_classes=40, feature_transform=False):
        super().__init__()
        self.stn = TNet(3)
        self.feature_transform = feature_transform
        if feature_transform:
            self.fstn = TNet(64)
        self.conv1 = nn.Sequential(nn.Conv1d(3, 64, 1), nn.BatchNorm1d(64), nn.ReLU())
        self.conv2 = nn.Sequential(nn.Conv1d(64, 128, 1), nn.BatchNorm1d(128), nn.ReLU(),
                                   nn.Conv1d(128, 1024, 1), nn.BatchNorm1d(1024))
        self.head = nn.Sequential(
            nn.Linear(1024, 512), nn.BatchNorm1d(512), nn.ReLU(),
            nn.Linear(512, 256), nn.Dropout(p=0.3), nn.BatchNorm1d(256), nn.ReLU(),
            nn.Linear(256, num_classes),
        )

    def forward(self, pts):
        trans = self.stn(pts)
        x = torch.bmm(pts.transpose(2, 1), trans).transpose(2, 1)
        x = self.conv1(x)
        trans_feat = None
        if self.feature_transform:
            trans_feat = self.fstn(x)
            x = torch.bmm(x.transpose(2, 1), trans_feat).transpose(2, 1)
        x = self.conv2(x).max(dim=2)[0]
        return F.log_softmax(self.head(x), dim=1), trans_feat


def orthogonality_penalty(trans):
    k = trans.size(1)
    eye = torch.eye(k, device=trans.device).unsqueeze(0)
    return torch.mean(torch.norm(torch.bmm(trans, trans.transpose(2, 1)) - eye, dim=(1, 2)))
