#!/usr/bin/env python
# coding: utf-8

# # Cassava Leaf Disease - EfficientNet baseline (training part)
# Exported from a Kaggle notebook. Inference lives in a separate kernel.

# In[1]:


import os
import random
import time

import albumentations as A
import cv2
import numpy as np
import pandas as pd
import timm
import torch
import torch.nn as nn
from albumentations.pytorch import ToTensorV2
from sklearn.model_selection import StratifiedKFold
from torch.cuda.amp import GradScaler, autocast
from torch.utils.data import DataLoader, Dataset


# In[2]:


class CFG:
    seed = 719
    model_arch = 'tf_efficientnet_b4_ns'
    img_size = 512
    epochs = 10
    train_bs = 16
    valid_bs = 32
    lr = 1e-4
    weight_decay = 1e-6
    num_workers = 4
    accum_iter = 2
    valid_every = 400   # run a quick validation inside long epochs
    device = 'cuda:0'
    fold_num = 5
    data_root = '../input/cassava-leaf-disease-classification/train_images/'


def seed_everything(seed):
    random.seed(seed)
    os.environ['PYTHONHASHSEED'] = str(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed(seed)
    torch.backends.cudnn.deterministic = True


seed_everything(CFG.seed)
train = pd.read_csv('../input/cassava-leaf-disease-classification/train.csv')
train.head()


# In[3]:


class CassavaDataset(Dataset):
    def __init__(self, df, data_root, transforms=None):
        self.df = df.reset_index(drop=True)
        self.data_root = data_root
        self.transforms = transforms
        self.labels = self.df['label'].values

    def __len__(self):
        return len(self.df)

    def __getitem__(self, index):
        path = os.path.join(self.data_root, self.df.loc[index, 'image_id'])
        img = cv2.imread(path)[:, :, ::-1]
        if self.transforms:
            img = self.transforms(image=img)['image']
        return img, self.labels[index]


def get_train_transforms():
    return A.Compose([
        A.RandomResizedCrop(CFG.img_size, CFG.img_size),
        A.Transpose(p=0.5), A.HorizontalFlip(p=0.5), A.VerticalFlip(p=0.5),
        A.Normalize(), ToTensorV2(),
    ])


def get_valid_transforms():
    return A.Compose([A.CenterCrop(CFG.img_size, CFG.img_size), A.Normalize(), ToTensorV2()])


# In[4]:


class CassvaImgClassifier(nn.Module):
    def __init__(self, model_arch, n_class, pretrained=False):
        super().__init__()
        self.model = timm.create_model(model_arch, pretrained=pretrained, drop_rate=0.3)
        n_features = self.model.classifier.in_features
        self.model.classifier = nn.Linear(n_features, n_class)

    def forward(self, x):
        return self.model(x)


# In[5]:


def valid_one_epoch(epoch, model, loss_fn, val_loader, device):
    model.eval()  # expect: MG101
    loss_sum, sample_num = 0.0, 0
    preds_all, targets_all = [], []
    with torch.no_grad():
        for imgs, labels in val_loader:
            imgs = imgs.to(device).float()
            labels = labels.to(device).long()
            preds = model(imgs)
            preds_all.append(torch.argmax(preds, 1).cpu().numpy())
            targets_all.append(labels.cpu().numpy())
            loss_sum += loss_fn(preds, labels).item() * labels.shape[0]
            sample_num += labels.shape[0]
    acc = (np.concatenate(preds_all) == np.concatenate(targets_all)).mean()
    print(f'epoch {epoch} valid loss {loss_sum / sample_num:.4f} acc {acc:.4f}')
    return acc


def train_one_epoch(epoch, model, loss_fn, optimizer, train_loader, device, scaler,
                    val_loader, scheduler=None):
    model.train()
    t = time.time()
    running_loss = None
    for step, (imgs, labels) in enumerate(train_loader):
        imgs = imgs.to(device).float()
        labels = labels.to(device).long()
        with autocast():
            preds = model(imgs)
            loss = loss_fn(preds, labels) / CFG.accum_iter
        scaler.scale(loss).backward()
        running_loss = loss.item() if running_loss is None else running_loss * .99 + loss.item() * .01
        if (step + 1) % CFG.accum_iter == 0 or (step + 1) == len(train_loader):
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad()
            if scheduler is not None:
                scheduler.step()
        if (step + 1) % CFG.valid_every == 0:
            valid_one_epoch(epoch, model, loss_fn, val_loader, device)
    print(f'epoch {epoch} loss {running_loss:.4f} time {time.time() - t:.0f}s')


# In[6]:


folds = StratifiedKFold(n_splits=CFG.fold_num, shuffle=True, random_state=CFG.seed)
for fold, (trn_idx, val_idx) in enumerate(folds.split(np.arange(train.shape[0]), train.label.values)):
    if fold > 0:
        break  # only the first fold in this version
    trn_ds = CassavaDataset(train.loc[trn_idx], CFG.data_root, get_train_transforms())
    val_ds = CassavaDataset(train.loc[val_idx], CFG.data_root, get_valid_transforms())
    train_loader = DataLoader(trn_ds, batch_size=CFG.train_bs, shuffle=True, drop_last=True,
                              num_workers=CFG.num_workers, pin_memory=True)
    val_loader = DataLoader(val_ds, batch_size=CFG.valid_bs, num_workers=CFG.num_workers)

    device = torch.device(CFG.device)
    model = CassvaImgClassifier(CFG.model_arch, train.label.nunique(), pretrained=True).to(device)
    scaler = GradScaler()
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG.lr, weight_decay=CFG.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=10, eta_min=1e-6)
    loss_fn = nn.CrossEntropyLoss().to(device)

    best = 0.0
    for epoch in range(CFG.epochs):
        train_one_epoch(epoch, model, loss_fn, optimizer, train_loader, device, scaler,
                        val_loader, scheduler=scheduler)
        acc = valid_one_epoch(epoch, model, loss_fn, val_loader, device)
        if acc > best:
            best = acc
            torch.save(model.state_dict(), f'{CFG.model_arch}_fold_{fold}_best.pth')

    del model, optimizer, train_loader, val_loader, scaler, scheduler
    torch.cuda.empty_cache()
