#!/usr/bin/env python
# coding: utf-8

# # House Prices - neural net regression in PyTorch
# Log-transform the target, one-hot the categoricals, 4-layer MLP.

# In[1]:


import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler


# In[2]:


train = pd.read_csv('/kaggle/input/house-prices-advanced-regression-techniques/train.csv')
test = pd.read_csv('/kaggle/input/house-prices-advanced-regression-techniques/test.csv')
y = np.log1p(train.pop('SalePrice').values).reshape(-1, 1)
test_ids = test['Id']

both = pd.concat([train, test]).drop(columns=['Id'])
both = both.eval('TotalSF = TotalBsmtSF + `1stFlrSF` + `2ndFlrSF`')
num_cols = both.select_dtypes(exclude='object').columns
both[num_cols] = both[num_cols].fillna(both[num_cols].median())
both = pd.get_dummies(both, dummy_na=True).astype(np.float32)

X_all = StandardScaler().fit_transform(both.values)
X = X_all[:len(train)]
X_sub = X_all[len(train):]
X_tr, X_val, y_tr, y_val = train_test_split(X, y, test_size=0.15, random_state=7)


# In[3]:


X_tr_t = torch.tensor(X_tr, dtype=torch.float32)
y_tr_t = torch.tensor(y_tr, dtype=torch.float32)
X_val_t = torch.tensor(X_val, dtype=torch.float32)
y_val_t = torch.tensor(y_val, dtype=torch.float32)

regressor = nn.Sequential(
    nn.Linear(X.shape[1], 256), nn.ReLU(), nn.Dropout(0.2),
    nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.2),
    nn.Linear(128, 64), nn.ReLU(),
    nn.Linear(64, 1),
)
criterion = nn.MSELoss()
optimizer = torch.optim.Adam(regressor.parameters(), lr=5e-4, weight_decay=1e-3)


# In[4]:


n_epochs, bs = 300, 64
train_hist, val_hist = [], []
for epoch in range(n_epochs):
    regressor.train()
    perm = torch.randperm(len(X_tr_t))
    epoch_loss = 0.0
    for i in range(0, len(perm), bs):
        idx = perm[i:i + bs]
        pred = regressor(X_tr_t[idx])
        loss = criterion(pred, y_tr_t[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        epoch_loss += loss.item() * len(idx)
    train_hist.append(np.sqrt(epoch_loss / len(perm)))

    regressor.eval()
    val_pred = regressor(X_val_t)  # expect: MG401
    val_rmse = torch.sqrt(criterion(val_pred, y_val_t)).item()
    val_hist.append(val_rmse)
    if epoch % 25 == 0:
        print(f'epoch {epoch:3d}  train rmse {train_hist[-1]:.4f}  val rmse {val_rmse:.4f}')


# In[5]:


import matplotlib.pyplot as plt
plt.plot(train_hist, label='train')
plt.plot(val_hist, label='val')
plt.ylim(0, 0.5)
plt.legend()
plt.show()


# In[6]:


regressor.eval()
with torch.no_grad():
    sub_pred = regressor(torch.tensor(X_sub, dtype=torch.float32)).numpy().ravel()
pd.DataFrame({'Id': test_ids, 'SalePrice': np.expm1(sub_pred)}).to_csv('submission.csv', index=False)
