# Cassava leaf disease - fine-tune a timm EfficientNet.
# Batch size is only 8 at 512px on the Kaggle P100, so I freeze the BatchNorm
# layers (keep the ImageNet running statistics) as suggested in the discussion forum.

import os
import argparse

import pandas as pd
import torch
import torch.nn as nn
import timm
from torch.utils.data import DataLoader

from cassava_data import CassavaDataset, get_train_transforms, get_valid_transforms

p = argparse.ArgumentParser()
p.add_argument('--arch', default='tf_efficientnet_b3_ns')
p.add_argument('--epochs', type=int, default=10)
p.add_argument('--bs', type=int, default=8)
p.add_argument('--lr', type=float, default=1e-4)
p.add_argument('--fold', type=int, default=0)
args = p.parse_args()

device = torch.device('cuda')
df = pd.read_csv('../input/cassava-leaf-disease-classification/train_folds.csv')
trn_df = df[df.fold != args.fold].reset_index(drop=True)
val_df = df[df.fold == args.fold].reset_index(drop=True)

trn_loader = DataLoader(CassavaDataset(trn_df, get_train_transforms(512)), batch_size=args.bs,
                        shuffle=True, num_workers=4, drop_last=True)
val_loader = DataLoader(CassavaDataset(val_df, get_valid_transforms(512)), batch_size=args.bs * 4,
                        num_workers=4)

model = timm.create_model(args.arch, pretrained=True, num_classes=5, drop_rate=0.3)
model.to(device)


def set_bn_eval(module):
    if isinstance(module, nn.BatchNorm2d):
        module.eval()  # expect: MG301


model.apply(set_bn_eval)

optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=args.epochs, eta_min=1e-6)
criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
scaler = torch.cuda.amp.GradScaler()

best_acc = 0.0
for epoch in range(args.epochs):
    model.train()
    running = 0.0
    for step, (imgs, labels) in enumerate(trn_loader):
        imgs, labels = imgs.to(device), labels.to(device)
        with torch.cuda.amp.autocast():
            loss = criterion(model(imgs), labels)
        optimizer.zero_grad()
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        running += loss.item()
        if step % 100 == 0:
            print(f'epoch {epoch} step {step} loss {running / (step + 1):.4f}')
    scheduler.step()

    model.eval()
    correct, n = 0, 0
    with torch.no_grad():
        for imgs, labels in val_loader:
            imgs, labels = imgs.to(device), labels.to(device)
            correct += (model(imgs).argmax(1) == labels).sum().item()
            n += labels.size(0)
    acc = correct / n
    print(f'epoch {epoch}: valid acc {acc:.4f}')
    if acc > best_acc:
        best_acc = acc
        os.makedirs('weights', exist_ok=True)
        torch.save(model.state_dict(), f'weights/{args.arch}_fold{args.fold}.pth')
