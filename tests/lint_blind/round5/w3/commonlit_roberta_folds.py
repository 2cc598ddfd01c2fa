#!/usr/bin/env python
# coding: utf-8

# # CommonLit Readability - RoBERTa attention-head, 5 folds, frequent evaluation

# In[1]:


import gc
import os

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from sklearn.model_selection import KFold
from torch.utils.data import DataLoader, Dataset
from transformers import AutoConfig, AutoModel, AutoTokenizer, get_cosine_schedule_with_warmup

CFG = dict(model='roberta-base', max_len=248, bs=8, lr=2e-5, epochs=3, folds=5,
           eval_steps=40, seed=42, device='cuda')
torch.manual_seed(CFG['seed'])

df = pd.read_csv('../input/commonlitreadabilityprize/train.csv')
df['n_words'] = df.excerpt.str.split().str.len()
df['n_sents'] = df.excerpt.str.count(r'[.!?]') + 1
df.eval('words_per_sent = n_words / n_sents', inplace=True)
print(df.query('words_per_sent > 40').shape, df.target.describe())
tokenizer = AutoTokenizer.from_pretrained(CFG['model'])


# In[2]:


class LitDataset(Dataset):
    def __init__(self, frame, with_target=True):
        self.enc = tokenizer(frame.excerpt.str.replace('\n', ' ').tolist(), max_length=CFG['max_len'],
                             padding='max_length', truncation=True, return_tensors='pt')
        self.target = torch.tensor(frame.target.values, dtype=torch.float32) if with_target else None

    def __len__(self):
        return self.enc['input_ids'].shape[0]

    def __getitem__(self, i):
        item = {k: v[i] for k, v in self.enc.items()}
        if self.target is not None:
            item['target'] = self.target[i]
        return item


class AttnHeadModel(nn.Module):
    def __init__(self):
        super().__init__()
        cfg = AutoConfig.from_pretrained(CFG['model'])
        cfg.update({'hidden_dropout_prob': 0.0, 'attention_probs_dropout_prob': 0.0})
        self.roberta = AutoModel.from_pretrained(CFG['model'], config=cfg)
        self.attention = nn.Sequential(nn.Linear(768, 512), nn.Tanh(), nn.Linear(512, 1))
        self.drop = nn.Dropout(0.1)
        self.regressor = nn.Linear(768, 1)

    def forward(self, input_ids, attention_mask):
        h = self.roberta(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        w = self.attention(h).masked_fill(attention_mask.unsqueeze(-1) == 0, -1e4).softmax(1)
        return self.regressor(self.drop((w * h).sum(1))).squeeze(-1)


# In[3]:


def valid_fn(model, loader):
    model.eval()
    preds = []
    with torch.no_grad():
        for b in loader:
            preds.append(model(b['input_ids'].to(CFG['device']), b['attention_mask'].to(CFG['device'])).cpu())
    preds = torch.cat(preds).numpy()
    return preds, float(np.sqrt(np.mean((preds - loader.dataset.target.numpy()) ** 2)))


def train_fn(fold, model, tr_loader, va_loader, optimizer, scheduler, best):
    model.train()
    for step, b in enumerate(tr_loader):
        out = model(b['input_ids'].to(CFG['device']), b['attention_mask'].to(CFG['device']))
        loss = nn.functional.mse_loss(out, b['target'].to(CFG['device'])).sqrt()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        if (step + 1) % CFG['eval_steps'] == 0:
            _, rmse = valid_fn(model, va_loader)
            model.train()
            if rmse < best:
                best = rmse
                torch.save(model.state_dict(), f'model_{fold}.pth')
                print(f'  fold {fold} step {step + 1}: new best {rmse:.4f}')
    return best


# In[4]:


oof = np.zeros(len(df))
for fold, (tr_idx, va_idx) in enumerate(KFold(CFG['folds'], shuffle=True, random_state=CFG['seed']).split(df)):
    tr_loader = DataLoader(LitDataset(df.iloc[tr_idx]), batch_size=CFG['bs'], shuffle=True, drop_last=True)
    va_loader = DataLoader(LitDataset(df.iloc[va_idx]), batch_size=32)
    model = AttnHeadModel().to(CFG['device'])
    optimizer = torch.optim.AdamW(model.parameters(), lr=CFG['lr'], weight_decay=0.01)
    total = CFG['epochs'] * len(tr_loader)
    scheduler = get_cosine_schedule_with_warmup(optimizer, int(0.06 * total), total)
    best = float('inf')
    for epoch in range(CFG['epochs']):
        best = train_fn(fold, model, tr_loader, va_loader, optimizer, scheduler, best)
    model.load_state_dict(torch.load(f'model_{fold}.pth'))
    oof[va_idx], _ = valid_fn(model, va_loader)
    print(f'fold {fold}: best rmse {best:.4f}')
    del model, optimizer
    gc.collect()
    torch.cuda.empty_cache()

print('CV rmse:', np.sqrt(np.mean((oof - df.target.values) ** 2)))
os.makedirs('oof', exist_ok=True)
df.assign(oof=oof)[['id', 'target', 'oof']].to_csv('oof/roberta_attn.csv', index=False)
