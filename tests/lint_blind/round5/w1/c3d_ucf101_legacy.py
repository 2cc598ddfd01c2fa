'''Train C3D on UCF101 split 1 (16-frame clips, 112x112).
Written for pytorch 0.3, still run on newer versions.
'''
from __future__ import print_function

import argparse
import os
import time

import torch
import torch.nn as nn
import torch.optim as optim
import torch.backends.cudnn as cudnn
from torch.autograd import Variable

from datasets.ucf101 import UCF101Clips
from utils import progress_bar


class C3D(nn.Module):
    def __init__(self, num_classes=101):
        super(C3D, self).__init__()
        def conv(i, o):
            return nn.Sequential(nn.Conv3d(i, o, 3, padding=1), nn.ReLU(inplace=True))
        self.features = nn.Sequential(
            conv(3, 64), nn.MaxPool3d((1, 2, 2), (1, 2, 2)),
            conv(64, 128), nn.MaxPool3d(2, 2),
            conv(128, 256), conv(256, 256), nn.MaxPool3d(2, 2),
            conv(256, 512), conv(512, 512), nn.MaxPool3d(2, 2),
            conv(512, 512), conv(512, 512), nn.MaxPool3d(2, 2, padding=(0, 1, 1)),
        )
        self.classifier = nn.Sequential(
            nn.Linear(8192, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
            nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        x = self.features(x)
        return self.classifier(x.view(x.size(0), -1))


parser = argparse.ArgumentParser(description='C3D UCF101')
parser.add_argument('--lr', default=0.003, type=float)
parser.add_argument('--epochs', default=40, type=int)
parser.add_argument('--resume', '-r', action='store_true')
parser.add_argument('--milestones', default='[15, 30]')
args = parser.parse_args()

best_acc = 0
start_epoch = 0

trainset = UCF101Clips('/data/ucf101', split=1, train=True)
testset = UCF101Clips('/data/ucf101', split=1, train=False)
trainloader = torch.utils.data.DataLoader(trainset, batch_size=24, shuffle=True, num_workers=8)
testloader = torch.utils.data.DataLoader(testset, batch_size=24, shuffle=False, num_workers=8)

net = C3D()
if args.resume:
    ckpt = torch.load('./checkpoint/c3d.t7')
    net.load_state_dict(ckpt['net'])
    best_acc, start_epoch = ckpt['acc'], ckpt['epoch']
net = torch.nn.DataParallel(net.cuda())
cudnn.benchmark = True

criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)
scheduler = optim.lr_scheduler.MultiStepLR(optimizer, milestones=eval(args.milestones), gamma=0.1)


def train(epoch):
    print('\nEpoch: %d' % epoch)
    train_loss, correct, total = 0, 0, 0
    for batch_idx, (clips, targets) in enumerate(trainloader):
        clips, targets = Variable(clips.cuda()), Variable(targets.cuda())
        optimizer.zero_grad()
        outputs = net(clips)
        loss = criterion(outputs, targets)
        loss.backward()
        optimizer.step()

        train_loss += loss.data[0]
        _, predicted = torch.max(outputs.data, 1)
        total += targets.size(0)
        correct += predicted.eq(targets.data).cpu().sum()
        progress_bar(batch_idx, len(trainloader), 'Loss: %.3f | Acc: %.3f%%'
                     % (train_loss / (batch_idx + 1), 100. * correct / total))


def test(epoch):
    global best_acc
    net.eval()  # expect: MG101
    test_loss, correct, total = 0, 0, 0
    for batch_idx, (clips, targets) in enumerate(testloader):
        clips, targets = Variable(clips.cuda(), volatile=True), Variable(targets.cuda())
        outputs = net(clips)  # expect: MG401
        loss = criterion(outputs, targets)
        test_loss += loss.data[0]
        _, predicted = torch.max(outputs.data, 1)
        total += targets.size(0)
        correct += predicted.eq(targets.data).cpu().sum()

    acc = 100. * correct / total
    print('test acc %.2f (loss %.3f)' % (acc, test_loss / (batch_idx + 1)))
    if acc > best_acc:
        print('Saving..')
        if not os.path.isdir('checkpoint'):
            os.mkdir('checkpoint')
        torch.save({'net': net.module.state_dict(), 'acc': acc, 'epoch': epoch}, './checkpoint/c3d.t7')
        best_acc = acc


net.train()
for epoch in range(start_epoch, start_epoch + args.epochs):
    t0 = time.time()
    scheduler.step()
    train(epoch)
    test(epoch)
    print('epoch time %.1fs' % (time.time() - t0))
