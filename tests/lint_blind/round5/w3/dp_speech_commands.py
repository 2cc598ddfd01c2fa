# Keyword spotting on Speech Commands v2, multi-GPU with nn.DataParallel.
# Validation runs every `--val-interval` iterations; the train mode is set at every batch.
import argparse
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchaudio

from sc_dataset import SpeechCommands, collate_pad


class KWSNet(nn.Module):
    def __init__(self, n_mels=40, n_classes=35):
        super(KWSNet, self).__init__()
        self.mel = torchaudio.transforms.MelSpectrogram(16000, n_fft=480, hop_length=160, n_mels=n_mels)
        chans = [1, 32, 64, 128, 128]
        blocks = []
        for cin, cout in zip(chans[:-1], chans[1:]):
            blocks += [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                       nn.ReLU(inplace=True), nn.MaxPool2d((2, 2))]
        self.body = nn.Sequential(*blocks)
        self.drop = nn.Dropout(0.3)
        self.fc = nn.Linear(128, n_classes)

    def forward(self, wav):
        x = torch.log(self.mel(wav) + 1e-6).unsqueeze(1)
        x = self.body(x).mean(dim=(2, 3))
        return self.fc(self.drop(x))


def run_validation(model, loader):
    model.eval()
    correct, total, loss_sum = 0, 0, 0.0
    with torch.no_grad():
        for wav, target in loader:
            wav, target = wav.cuda(), target.cuda()
            out = model(wav)
            loss_sum += F.cross_entropy(out, target, reduction='sum').item()
            correct += (out.argmax(1) == target).sum().item()
            total += target.size(0)
    return loss_sum / total, correct / total


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--root', default='/data/speech_commands_v0.02')
    parser.add_argument('--batch-size', type=int, default=256)
    parser.add_argument('--lr', type=float, default=1e-3)
    parser.add_argument('--epochs', type=int, default=30)
    parser.add_argument('--val-interval', type=int, default=200)
    parser.add_argument('--save-dir', default='ckpt_kws')
    args = parser.parse_args()
    os.makedirs(args.save_dir, exist_ok=True)

    train_loader = torch.utils.data.DataLoader(
        SpeechCommands(args.root, 'training'), batch_size=args.batch_size, shuffle=True,
        num_workers=8, collate_fn=collate_pad, drop_last=True)
    val_loader = torch.utils.data.DataLoader(
        SpeechCommands(args.root, 'validation'), batch_size=args.batch_size,
        num_workers=8, collate_fn=collate_pad)

    model = KWSNet()
    if torch.cuda.device_count() > 1:
        model = nn.DataParallel(model)
    model = model.cuda()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-2)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, args.lr, total_steps=args.epochs * len(train_loader))

    best_acc, it = 0.0, 0
    for epoch in range(args.epochs):
        tic = time.time()
        for wav, target in train_loader:
            model.train()
            wav, target = wav.cuda(non_blocking=True), target.cuda(non_blocking=True)
            loss = F.cross_entropy(model(wav), target, label_smoothing=0.05)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            it += 1
            if it % args.val_interval == 0:
                val_loss, val_acc = run_validation(model, val_loader)
                print('[ep %d it %d] loss %.4f | val loss %.4f acc %.4f' % (epoch, it, loss.item(), val_loss, val_acc))
                if val_acc > best_acc:
                    best_acc = val_acc
                    net = model.module if isinstance(model, nn.DataParallel) else model
                    torch.save(net.state_dict(), os.path.join(args.save_dir, 'best.pth'))
        print('epoch %d done in %.0fs, best val acc %.4f' % (epoch, time.time() - tic, best_acc))


if __name__ == '__main__':
    main()
