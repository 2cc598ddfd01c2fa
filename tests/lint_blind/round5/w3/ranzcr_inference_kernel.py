#!/usr/bin/env python
# coding: utf-8

# ## RANZCR CLiP - inference kernel (5-fold ensemble + hflip TTA)
# Internet is off in this competition, timm is loaded from a dataset.

# In[1]:


import sys
sys.path.append('../input/pytorch-image-models/pytorch-image-models-master')

import os

import albumentations as A
import cv2
import numpy as np
import pandas as pd
import timm
import torch
import torch.nn as nn
from albumentations.pytorch import ToTensorV2
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm


# In[2]:


class CFG:
    model_name = 'tf_efficientnet_b3_ns'
    size = 512
    batch_size = 32
    num_workers = 4
    trn_fold = [0, 1, 2, 3, 4]
    target_cols = ['ETT - Abnormal', 'ETT - Borderline', 'ETT - Normal',
                   'NGT - Abnormal', 'NGT - Borderline', 'NGT - Incompletely Imaged', 'NGT - Normal',
                   'CVC - Abnormal', 'CVC - Borderline', 'CVC - Normal',
                   'Swan Ganz Catheter Present']
    MODEL_DIR = '../input/ranzcr-b3-512-weights/'
    TEST_PATH = '../input/ranzcr-clip-catheter-line-classification/test'


device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
test = pd.read_csv('../input/ranzcr-clip-catheter-line-classification/sample_submission.csv')


# In[3]:


class TestDataset(Dataset):
    def __init__(self, df, transform=None):
        self.file_names = df['StudyInstanceUID'].values
        self.transform = transform

    def __len__(self):
        return len(self.file_names)

    def __getitem__(self, idx):
        image = cv2.imread(f'{CFG.TEST_PATH}/{self.file_names[idx]}.jpg')
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        return self.transform(image=image)['image']


test_tf = A.Compose([
    A.Resize(CFG.size, CFG.size),
    A.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
    ToTensorV2(),
])


# In[4]:


class CustomModel(nn.Module):
    def __init__(self, model_name, pretrained=False):
        super().__init__()
        self.model = timm.create_model(model_name, pretrained=pretrained,
                                       drop_rate=0.3, drop_path_rate=0.2)
        n_features = self.model.classifier.in_features
        self.model.classifier = nn.Identity()
        self.fc = nn.Linear(n_features, len(CFG.target_cols))

    def forward(self, x):
        return self.fc(self.model(x))


# In[5]:


def inference(models, test_loader, device):
    probs = []
    for images in tqdm(test_loader, total=len(test_loader)):
        images = images.to(device)
        avg_preds = []
        for model in models:
            with torch.no_grad():
                y_preds1 = model(images)  # expect: MG102
                y_preds2 = model(images.flip(-1))
            y_preds = (y_preds1.sigmoid() + y_preds2.sigmoid()) / 2
            avg_preds.append(y_preds.to('cpu').numpy())
        probs.append(np.mean(avg_preds, axis=0))
    return np.concatenate(probs)


# In[6]:


models = []
for fold in CFG.trn_fold:
    model = CustomModel(CFG.model_name, pretrained=False)
    ckpt = torch.load(os.path.join(CFG.MODEL_DIR, f'{CFG.model_name}_fold{fold}_best.pth'),
                      map_location='cpu')
    model.load_state_dict(ckpt['model'])
    model.to(device)
    models.append(model)

test_dataset = TestDataset(test, transform=test_tf)
test_loader = DataLoader(test_dataset, batch_size=CFG.batch_size, shuffle=False,
                         num_workers=CFG.num_workers, pin_memory=True)
predictions = inference(models, test_loader, device)


# In[7]:


test[CFG.target_cols] = predictions
test[['StudyInstanceUID'] + CFG.target_cols].to_csv('submission.csv', index=False)
test.head()
