# Plant seedlings classification - ResNet34 with frozen BatchNorm.
# Small batches (12 imgs at 384px) make BN statistics noisy, so the backbone BN layers
# keep their ImageNet statistics AND their affine parameters for the whole run.
import pandas as pd
import torch
import torch.nn as nn
import timm
from torch.utils.data import DataLoader
from sklearn.metrics import f1_score

from seedlings import SeedlingsDataset, train_aug, valid_aug

DEVICE = "cuda"
BS = 12
EPOCHS = 15


class SeedlingNet(nn.Module):
    def __init__(self, n_classes=12, bn_frozen=True):
        super().__init__()
        self.backbone = timm.create_model("resnet34", pretrained=True, num_classes=0)
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(self.backbone.num_features, n_classes)
        self.bn_frozen = bn_frozen
        if bn_frozen:
            for m in self.backbone.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.weight.requires_grad_(False)
                    m.bias.requires_grad_(False)

    def train(self, mode=True):
        """Like nn.Module.train, but backbone BN layers always stay in eval mode."""
        super().train(mode)
        if mode and self.bn_frozen:
            for m in self.backbone.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.eval()
        return self

    def forward(self, x):
        return self.head(self.dropout(self.backbone(x)))


folds = pd.read_csv("folds.csv")
trn = DataLoader(SeedlingsDataset(folds[folds.fold != 0], train_aug(384)), batch_size=BS,
                 shuffle=True, num_workers=4, drop_last=True)
val = DataLoader(SeedlingsDataset(folds[folds.fold == 0], valid_aug(384)), batch_size=32, num_workers=4)

model = SeedlingNet().to(DEVICE)
opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-4, weight_decay=1e-4)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=EPOCHS)
loss_fn = nn.CrossEntropyLoss()

best_f1 = 0.0
for epoch in range(EPOCHS):
    model.train()
    for imgs, tgt in trn:
        imgs, tgt = imgs.to(DEVICE), tgt.to(DEVICE)
        opt.zero_grad()
        loss = loss_fn(model(imgs), tgt)
        loss.backward()
        opt.step()
    sched.step()

    model.eval()
    preds, gts = [], []
    with torch.no_grad():
        for imgs, tgt in val:
            preds.append(model(imgs.to(DEVICE)).argmax(1).cpu())
            gts.append(tgt)
    f1 = f1_score(torch.cat(gts), torch.cat(preds), average="micro")
    print(f"epoch {epoch}: micro-F1 {f1:.4f}")
    if f1 > best_f1:
        best_f1 = f1
        torch.save(model.state_dict(), "seedlings_r34.pt")
