"""Self-normalizing network on ECFP fingerprints for the 12 Tox21 assays.

Multi-task binary classification with missing labels (NaN) masked out of the loss.
"""
import argparse
import math

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F
from rdkit import Chem
from rdkit.Chem import AllChem
from sklearn.metrics import roc_auc_score

TASKS = ["NR-AR", "NR-AR-LBD", "NR-AhR", "NR-Aromatase", "NR-ER", "NR-ER-LBD",
         "NR-PPAR-gamma", "SR-ARE", "SR-ATAD5", "SR-HSE", "SR-MMP", "SR-p53"]


def featurize(smiles, radius=2, n_bits=2048):
    out = np.zeros((len(smiles), n_bits), dtype=np.float32)
    for i, s in enumerate(smiles):
        mol = Chem.MolFromSmiles(s)
        if mol is None:
            continue
        fp = AllChem.GetMorganFingerprintAsBitVect(mol, radius, nBits=n_bits)
        out[i, list(fp.GetOnBits())] = 1.0
    return out


class SNN(nn.Module):
    def __init__(self, d_in, n_tasks, width=1024, depth=4, p=0.05):
        super().__init__()
        dims = [d_in] + [width] * depth
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.out = nn.Linear(width, n_tasks)
        self.p = p
        for lin in list(self.hidden) + [self.out]:
            nn.init.normal_(lin.weight, 0.0, math.sqrt(1.0 / lin.in_features))
            nn.init.zeros_(lin.bias)

    def forward(self, x):
        h = x
        for lin in self.hidden:
            h = F.selu(lin(h))
            h = F.alpha_dropout(h, p=self.p, training=True)  # expect: MG201
        return self.out(h)


def masked_bce(logits, y):
    mask = ~torch.isnan(y)
    return F.binary_cross_entropy_with_logits(logits[mask], y[mask])


def mean_auc(model, X, Y):
    model.eval()
    with torch.no_grad():
        prob = torch.sigmoid(model(X)).cpu().numpy()
    y = Y.cpu().numpy()
    aucs = []
    for t in range(y.shape[1]):
        m = ~np.isnan(y[:, t])
        if len(np.unique(y[m, t])) == 2:
            aucs.append(roc_auc_score(y[m, t], prob[m, t]))
    return float(np.mean(aucs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", default="tox21.csv")
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--lr", type=float, default=1e-4)
    args = ap.parse_args()

    df = pd.read_csv(args.csv)
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(df))
    n_val = len(df) // 10
    X = torch.from_numpy(featurize(df["smiles"].tolist())).cuda()
    Y = torch.tensor(df[TASKS].values, dtype=torch.float32).cuda()
    tr, va = idx[n_val:], idx[:n_val]

    model = SNN(X.shape[1], len(TASKS)).cuda()
    opt = torch.optim.SGD(model.parameters(), lr=args.lr * 100, momentum=0.9)
    best, bad_epochs = 0.0, 0
    for epoch in range(args.epochs):
        model.train()
        perm = torch.from_numpy(rng.permutation(tr)).cuda()
        for b in perm.split(128):
            loss = masked_bce(model(X[b]), Y[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
        auc = mean_auc(model, X[va], Y[va])
        print(f"{epoch:3d} loss={loss.item():.4f} val_auc={auc:.4f}")
        if auc > best:
            best, bad_epochs = auc, 0
            torch.save(model.state_dict(), "snn_tox21.pt")
        else:
            bad_epochs += 1
            if bad_epochs == 10:
                break


if __name__ == "__main__":
    main()
