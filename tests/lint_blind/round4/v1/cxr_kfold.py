"""5-fold CV for chest X-ray pneumonia classification; keeps the best epoch by fold AUC."""
import argparse
import os

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from torch.utils.data import DataLoader, Subset

from cxr.dataset import ChestXrayDataset
from cxr.net import DenseNetCXR


def make_loader(ds, idx, bs, shuffle):
    return DataLoader(Subset(ds, idx), batch_size=bs, shuffle=shuffle,
                      num_workers=6, pin_memory=True, drop_last=shuffle)


def fit_one_epoch(clf, loader, opt, loss_fn, dev):
    clf.train()
    tot = 0.0
    for img, y in loader:
        img, y = img.to(dev), y.float().to(dev)
        opt.zero_grad()
        loss = loss_fn(clf(img).squeeze(1), y)
        loss.backward()
        opt.step()
        tot += loss.item()
    return tot / len(loader)


def predict_proba(clf, loader, dev):
    probs = []
    for img, _ in loader:
        out = clf(img.to(dev))  # expect: MG102, MG401
        probs.append(torch.sigmoid(out).squeeze(1).detach().cpu().numpy())
    return np.concatenate(probs)


def run_fold(fold, ds, tr_idx, va_idx, labels, args, dev):
    tr_dl = make_loader(ds, tr_idx, args.bs, True)
    va_dl = make_loader(ds, va_idx, args.bs, False)
    clf = DenseNetCXR(pretrained=True, drop=0.3).to(dev)
    pos_weight = torch.tensor([(labels[tr_idx] == 0).sum() / max((labels[tr_idx] == 1).sum(), 1)])
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=pos_weight.to(dev))
    opt = torch.optim.Adam(clf.parameters(), lr=args.lr)

    best_auc, best_pred = -1.0, None
    for ep in range(args.epochs):
        tl = fit_one_epoch(clf, tr_dl, opt, loss_fn, dev)
        pred = predict_proba(clf, va_dl, dev)
        auc = roc_auc_score(labels[va_idx], pred)
        print(f"fold {fold} ep {ep:02d} loss {tl:.4f} auc {auc:.4f}")
        if auc > best_auc:
            best_auc, best_pred = auc, pred
            torch.save(clf.state_dict(), os.path.join(args.out, f"fold{fold}.pt"))
    return best_auc, best_pred


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", default="data/train.csv")
    ap.add_argument("--img-dir", default="data/images")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--bs", type=int, default=24)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", default="ckpt_kfold")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    df = pd.read_csv(args.csv)
    labels = df["pneumonia"].values.astype(int)
    ds = ChestXrayDataset(df, args.img_dir, train=True)

    oof = np.zeros(len(df), dtype=np.float32)
    skf = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=args.seed)
    fold_aucs = []
    for fold, (tr_idx, va_idx) in enumerate(skf.split(np.zeros(len(labels)), labels)):
        auc, pred = run_fold(fold, ds, tr_idx, va_idx, labels, args, dev)
        oof[va_idx] = pred
        fold_aucs.append(auc)

    print("fold AUCs:", np.round(fold_aucs, 4), "mean", np.mean(fold_aucs))
    print("OOF AUC:", roc_auc_score(labels, oof))
    df.assign(oof=oof).to_csv(os.path.join(args.out, "oof.csv"), index=False)


if __name__ == "__main__":
    main()
