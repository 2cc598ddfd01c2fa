#!/usr/bin/env python
# SqueezeSeg-style LiDAR range-image segmentation (car / pedestrian / cyclist) on KITTI.
# Old code base (pytorch 0.4 era): Variables and .data are still around.
import os
import sys
import time
import argparse
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd import Variable

from kitti_range import KittiRangeImages, CLASS_WEIGHTS


class Fire(nn.Module):
    def __init__(self, inp, sq, e1, e3):
        super(Fire, self).__init__()
        self.squeeze = nn.Sequential(nn.Conv2d(inp, sq, 1), nn.BatchNorm2d(sq), nn.ReLU(inplace=True))
        self.e1 = nn.Sequential(nn.Conv2d(sq, e1, 1), nn.BatchNorm2d(e1), nn.ReLU(inplace=True))
        self.e3 = nn.Sequential(nn.Conv2d(sq, e3, 3, padding=1), nn.BatchNorm2d(e3), nn.ReLU(inplace=True))

    def forward(self, x):
        x = self.squeeze(x)
        return torch.cat([self.e1(x), self.e3(x)], 1)


class SqueezeSegLite(nn.Module):
    def __init__(self, n_cls=4, in_ch=5):
        super(SqueezeSegLite, self).__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(in_ch, 64, 3, stride=(1, 2), padding=1), nn.BatchNorm2d(64), nn.ReLU(True))
        self.fire2 = Fire(64, 16, 64, 64)
        self.fire3 = Fire(128, 16, 64, 64)
        self.fire4 = Fire(128, 32, 128, 128)
        self.drop = nn.Dropout2d(0.5)
        self.up = nn.ConvTranspose2d(256, 64, (1, 4), stride=(1, 2), padding=(0, 1))
        self.out = nn.Conv2d(64 + 64, n_cls, 3, padding=1)

    def forward(self, x):
        c1 = self.conv1(x)
        f = self.fire4(self.fire3(self.fire2(F.max_pool2d(c1, 3, stride=(1, 2), padding=1))))
        f = self.up(self.drop(f))
        return self.out(torch.cat([f, c1], 1))


parser = argparse.ArgumentParser()
parser.add_argument('--data', default='/data/kitti_range')
parser.add_argument('--epochs', type=int, default=50)
parser.add_argument('--lr', type=float, default=0.01)
parser.add_argument('--gpu', type=int, default=0)
opt = parser.parse_args()

torch.cuda.set_device(opt.gpu)
train_set = KittiRangeImages(opt.data, 'train')
val_set = KittiRangeImages(opt.data, 'val')
train_loader = torch.utils.data.DataLoader(train_set, batch_size=16, shuffle=True, num_workers=4)
val_loader = torch.utils.data.DataLoader(val_set, batch_size=16, num_workers=4)

net = SqueezeSegLite().cuda()
weights = torch.FloatTensor(CLASS_WEIGHTS).cuda()
criterion = nn.CrossEntropyLoss(weight=weights, ignore_index=-1)
optimizer = torch.optim.SGD(net.parameters(), lr=opt.lr, momentum=0.9, weight_decay=1e-4)


def per_class_iou(conf):
    inter = np.diag(conf)
    return inter / (conf.sum(0) + conf.sum(1) - inter + 1e-10)


for epoch in range(opt.epochs):
    # ---- train ----
    net.train()
    tic = time.time()
    for i, (inp, lbl) in enumerate(train_loader):
        inp, lbl = Variable(inp.cuda()), Variable(lbl.cuda())
        out = net(inp)
        loss = criterion(out, lbl)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if i % 100 == 0:
            print('[%d/%d][%d] loss %.4f' % (epoch, opt.epochs, i, loss.data.item()))
            sys.stdout.flush()

    # ---- val ----
    net.eval()
    conf = np.zeros((4, 4), dtype=np.int64)
    with torch.no_grad():
        for inp, lbl in val_loader:
            out = net(Variable(inp.cuda()))
            pred = out.data.max(1)[1].cpu().numpy().ravel()
            gt = lbl.numpy().ravel()
            keep = gt >= 0
            conf += np.bincount(4 * gt[keep] + pred[keep], minlength=16).reshape(4, 4)
    iou = per_class_iou(conf)
    print('epoch %d  IoU car %.3f ped %.3f cyc %.3f  (%.0fs)' % (epoch, iou[1], iou[2], iou[3], time.time() - tic))
    if not os.path.exists('snapshots'):
        os.makedirs('snapshots')
    torch.save(net.state_dict(), 'snapshots/squeezeseg_%03d.pth' % epoch)
