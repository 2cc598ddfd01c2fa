import argparse
import os
import random

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
import torch.utils.data
from tqdm import tqdm

from data.modelnet import ModelNet40H5


class TNet(nn.Module):
    """Predicts a k x k alignment matrix from the point set."""

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
        h = torch.max(self.convs(x), 2)[0]
        iden = torch.eye(self.k, device=x.device).flatten().unsqueeze(0)
        return (self.fc(h) + iden).view(b, self.k, self.k)


class PointNetCls(nn.Module):
    def __init__(self, k=40, feature_transform=True):
        super().__init__()
        self.stn = TNet(3)
        self.fstn = TNet(64) if feature_transform else None
        self.conv1 = nn.Sequential(nn.Conv1d(3, 64, 1), nn.BatchNorm1d(64), nn.ReLU())
        self.conv2 = nn.Sequential(nn.Conv1d(64, 128, 1), nn.BatchNorm1d(128), nn.ReLU(),
                                   nn.Conv1d(128, 1024, 1), nn.BatchNorm1d(1024))
        self.head = nn.Sequential(
            nn.Linear(1024, 512), nn.BatchNorm1d(512), nn.ReLU(),
            nn.Linear(512, 256), nn.Dropout(p=0.3), nn.BatchNorm1d(256), nn.ReLU(),
            nn.Linear(256, k),
        )

    def forward(self, x):
        trans = self.stn(x)
        x = torch.bmm(x.transpose(2, 1), trans).transpose(2, 1)
        x = self.conv1(x)
        trans_feat = None
        if self.fstn is not None:
            trans_feat = self.fstn(x)
            x = torch.bmm(x.transpose(2, 1), trans_feat).transpose(2, 1)
        x = torch.max(self.conv2(x), 2)[0]
        return F.log_softmax(self.head(x), dim=1), trans, trans_feat


def orthogonality_reg(trans):
    d = trans.size(1)
    eye = torch.eye(d, device=trans.device)[None]
    return torch.mean(torch.norm(torch.bmm(trans, trans.transpose(2, 1)) - eye, dim=(1, 2)))


def test_accuracy(net, loader):
    total_correct, total_testset = 0, 0
    with torch.no_grad():
        for points, target in tqdm(loader, leave=False):
            points, target = points.transpose(2, 1).cuda(), target[:, 0].cuda()
            pred, _, _ = net(points)  # expect: MG102
            total_correct += pred.argmax(1).eq(target).sum().item()
            total_testset += points.size(0)
    return total_correct / float(total_testset)


parser = argparse.ArgumentParser()
parser.add_argument('--batchSize', type=int, default=32)
parser.add_argument('--num_points', type=int, default=1024)
parser.add_argument('--nepoch', type=int, default=250)
parser.add_argument('--outf', type=str, default='cls')
parser.add_argument('--dataset', type=str, required=True)
parser.add_argument('--feature_transform', action='store_true')
opt = parser.parse_args()

opt.manualSeed = random.randint(1, 10000)
random.seed(opt.manualSeed)
torch.manual_seed(opt.manualSeed)

dataset = ModelNet40H5(opt.dataset, npoints=opt.num_points, split='train', augment=True)
test_dataset = ModelNet40H5(opt.dataset, npoints=opt.num_points, split='test', augment=False)
dataloader = torch.utils.data.DataLoader(dataset, batch_size=opt.batchSize, shuffle=True,
                                         num_workers=4, drop_last=True)
testdataloader = torch.utils.data.DataLoader(test_dataset, batch_size=opt.batchSize,
                                             shuffle=False, num_workers=4)
os.makedirs(opt.outf, exist_ok=True)

classifier = PointNetCls(k=40, feature_transform=opt.feature_transform).cuda()
optimizer = optim.Adam(classifier.parameters(), lr=0.001, betas=(0.9, 0.999))
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=20, gamma=0.5)

for epoch in range(opt.nepoch):
    classifier.train()
    for i, (points, target) in enumerate(dataloader):
        points, target = points.transpose(2, 1).cuda(), target[:, 0].cuda()
        optimizer.zero_grad()
        pred, trans, trans_feat = classifier(points)
        loss = F.nll_loss(pred, target)
        if opt.feature_transform:
            loss = loss + 0.001 * orthogonality_reg(trans_feat)
        loss.backward()
        optimizer.step()
        if i % 50 == 0:
            acc = pred.argmax(1).eq(target).float().mean().item()
            print('[%d: %d/%d] loss %.4f acc %.4f' % (epoch, i, len(dataloader), loss.item(), acc))
    scheduler.step()

    print('epoch %d test accuracy %.4f' % (epoch, test_accuracy(classifier, testdataloader)))
    torch.save(classifier.state_dict(), '%s/cls_model_%d.pth' % (opt.outf, epoch))
