#!/usr/bin/env python
# coding: utf-8

# # TPS May - simple PyTorch MLP baseline
# Upvote if you find it useful :)

# In[1]:


import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from torch.utils.data import TensorDataset, DataLoader
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler, LabelEncoder
from sklearn.metrics import log_loss


# In[2]:


train = pd.read_csv('../input/tabular-playground-series-may-2021/train.csv')
test = pd.read_csv('../input/tabular-playground-series-may-2021/test.csv')
sub = pd.read_csv('../input/tabular-playground-series-may-2021/sample_submission.csv')

features = [c for c in train.columns if c.startswith('feature_')]
le = LabelEncoder()
y = le.fit_transform(train['target'])
scaler = StandardScaler()
X = scaler.fit_transform(train[features].values)
X_test = scaler.transform(test[features].values)

X_tr, X_va, y_tr, y_va = train_test_split(X, y, test_size=0.2, stratify=y, random_state=42)


# In[3]:


DEVICE = 'cuda' if torch.cuda.is_available() else 'cpu'

def to_loader(x, t=None, bs=256, shuffle=False):
    x = torch.tensor(x, dtype=torch.float32)
    if t is None:
        return DataLoader(TensorDataset(x), batch_size=bs)
    return DataLoader(TensorDataset(x, torch.tensor(t)), batch_size=bs, shuffle=shuffle)

dl_tr = to_loader(X_tr, y_tr, shuffle=True)
dl_va = to_loader(X_va, y_va)
dl_te = to_loader(X_test)


# In[4]:


class TabMLP(nn.Module):
    def __init__(self, n_in, n_out, hidden=(512, 256, 128), p=0.3):
        super().__init__()
        layers = []
        prev = n_in
        for h in hidden:
            layers += [nn.Linear(prev, h), nn.BatchNorm1d(h), nn.SiLU(), nn.Dropout(p)]
            prev = h
        self.body = nn.Sequential(*layers)
        self.out = nn.Linear(prev, n_out)

    def forward(self, x):
        return self.out(self.body(x))


# In[5]:


def fit_one_epoch(net, loader, opt, loss_fn):
    net.train()
    total = 0.0
    for xb, yb in loader:
        xb, yb = xb.to(DEVICE), yb.to(DEVICE)
        opt.zero_grad()
        loss = loss_fn(net(xb), yb)
        loss.backward()
        opt.step()
        total += loss.item() * len(xb)
    return total / len(loader.dataset)


def run_valid(net, loader):
    probs = []
    with torch.no_grad():
        for xb, _ in loader:
            logits = net(xb.to(DEVICE))  # expect: MG102
            probs.append(torch.softmax(logits, dim=1).cpu().numpy())
    return np.concatenate(probs)


# In[6]:


net = TabMLP(len(features), len(le.classes_)).to(DEVICE)
opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-4)
sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=2, factor=0.5)
loss_fn = nn.CrossEntropyLoss()

best, bad_epochs = np.inf, 0
for epoch in range(40):
    tr_loss = fit_one_epoch(net, dl_tr, opt, loss_fn)
    va_probs = run_valid(net, dl_va)
    va_loss = log_loss(y_va, va_probs)
    sched.step(va_loss)
    print(f'{epoch:02d} train {tr_loss:.4f} valid {va_loss:.4f}')
    if va_loss < best:
        best, bad_epochs = va_loss, 0
        torch.save(net.state_dict(), 'best.pt')
    else:
        bad_epochs += 1
        if bad_epochs >= 5:
            print('early stopping')
            break


# In[7]:


net.load_state_dict(torch.load('best.pt'))
net.eval()
test_probs = []
with torch.no_grad():
    for (xb,) in dl_te:
        test_probs.append(torch.softmax(net(xb.to(DEVICE)), dim=1).cpu().numpy())
test_probs = np.concatenate(test_probs)

sub[list(le.classes_)] = test_probs
sub.to_csv('submission.csv', index=False)
sub.head()
