from __future__ import print_function
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

from dataset import ModelNetDataset

parser = argparse.ArgumentParser()
parser.add_argument('--batchSize', type=int, default=32)
parser.add_argument('--num_points', type=int, default=2500)
parser.add_argument('--workers', type=int, default=4)
parser.add_argument('--nepoch', type=int, default=250)
parser.add_argument('--outf', type=str, default='cls')
parser.add_argument('--dataset', type=str, required=True)
parser.add_argument('--feature_transform', action='store_true')
opt = parser.parse_args()


class STNkd(nn.Module):
    def __init__(self, k=64):
        super(STNkd, self).__init__()
        self.k = k
        self.conv = nn.Sequential(
            nn.Conv1d(k, 64, 1), nn.BatchNorm1d(64), nn.ReLU(),
            nn.Conv1d(64, 128, 1), nn.BatchNorm1d(128), nn.ReLU(),
            nn.Conv1d(128, 1024, 1), nn.BatchNorm1d(1024), nn.ReLU())
        self.fc = nn.Sequential(
            nn.Linear(1024, 512), nn.BatchNorm1d(512), nn.ReLU(),
            nn.Linear(512, 256), nn.BatchNorm1d(256), nn.ReLU(),
            nn.Linear(256, k * k))

    def forward(self, x):
        x = torch.max(self.conv(x), 2)[0]
        x = self.fc(x)
        iden = torch.eye(self.k, device=x.device).flatten().unsqueeze(0)
        return (x + iden).view(-1, self.k, self.k)


class PointNetCls(nn.Module):
    def __init__(self, k=40, feature_transform=False):
        super(PointNetCls, self).__init__()
        self.stn = STNkd(3)
        self.conv1 = nn.Sequential(nn.Conv1d(3, 64, 1), nn.BatchNorm1d(64), nn.ReLU())
        self.fstn = STNkd(64) if feature_transform else None
        self.conv2 = nn.Sequential(nn.Conv1d(64, 128, 1), nn.BatchNorm1d(128), nn.ReLU(),
                                   nn.Conv1d(128, 1024, 1), nn.BatchNorm1d(1024))
        self.head = nn.Sequential(nn.Linear(1024, 512), nn.BatchNorm1d(512), nn.ReLU(),
                                  nn.Linear(512, 256), nn.Dropout(p=0.3), nn.BatchNorm1d(256),
                                  nn.ReLU(), nn.Linear(256, k))

    def forward(self, x):
        trans = self.stn(x)
        x = torch.bmm(x.transpose(2, 1), trans).transpose(2, 1)
        x = self.conv1(x)
        trans_feat = None
        if self.fstn is not None:
            trans_feat = self.fstn(x)
            x = torch.bmm(x.transpose(2, 1), trans_feat).transpose(2, 1)
        x = torch.max(self.conv2(x), 2)[0]
        return F.log_softmax(self.head(x), dim=1), trans_feat


def feature_transform_regularizer(trans):
    d = trans.size(1)
    I = torch.eye(d, device=trans.device)[None]
    return torch.mean(torch.norm(torch.bmm(trans, trans.transpose(2, 1)) - I, dim=(1, 2)))


def test(classifier, loader):
    total_correct, total_testset = 0, 0
    for points, target in loader:
        points, target = points.transpose(2, 1).cuda(), target[:, 0].cuda()
        pred, _ = classifier(points)  # expect: MG102, MG401
        pred_choice = pred.max(1)[1]
        total_correct += pred_choice.eq(target).cpu().sum().item()
        total_testset += points.size(0)
    return total_correct / float(total_testset)


opt.manualSeed = random.randint(1, 10000)
print("Random Seed: ", opt.manualSeed)
random.seed(opt.manualSeed)
torch.manual_seed(opt.manualSeed)

dataset = ModelNetDataset(root=opt.dataset, npoints=opt.num_points, split='trainval')
test_dataset = ModelNetDataset(root=opt.dataset, split='test', npoints=opt.num_points, data_augmentation=False)
dataloader = torch.utils.data.DataLoader(dataset, batch_size=opt.batchSize, shuffle=True,
                                         num_workers=int(opt.workers), drop_last=True)
testdataloader = torch.utils.data.DataLoader(test_dataset, batch_size=opt.batchSize, shuffle=False,
                                             num_workers=int(opt.workers))
num_classes = len(dataset.classes)
os.makedirs(opt.outf, exist_ok=True)

classifier = PointNetCls(k=num_classes, feature_transform=opt.feature_transform).cuda()
optimizer = optim.Adam(classifier.parameters(), lr=0.001, betas=(0.9, 0.999))
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=20, gamma=0.5)

for epoch in range(opt.nepoch):
    classifier.train()
    for i, (points, target) in enumerate(dataloader):
        points, target = points.transpose(2, 1).cuda(), target[:, 0].cuda()
        optimizer.zero_grad()
        pred, trans_feat = classifier(points)
        loss = F.nll_loss(pred, target)
        if opt.feature_transform:
            loss = loss + 0.001 * feature_transform_regularizer(trans_feat)
        loss.backward()
        optimizer.step()
        if i % 50 == 0:
            correct = pred.data.max(1)[1].eq(target.data).cpu().sum()
            print('[%d: %d] train loss: %f accuracy: %f' % (epoch, i, loss.item(), correct.item() / float(opt.batchSize)))
    scheduler.step()
    acc = test(classifier, testdataloader)
    print('[%d] test accuracy: %f' % (epoch, acc))
    torch.save(classifier.state_dict(), '%s/cls_model_%d.pth' % (opt.outf, epoch))
