"""K-fold cross-validation training for solubility (ESOL-like) regression.

    python trainer.py --csv data/esol.csv --folds 5 --out runs/esol
"""
import argparse
import json
import os

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.model_selection import KFold
from torch_geometric.loader import DataLoader

from featurize import smiles_to_graphs
from metrics import StandardScaler, val_loss
from models import make_model


class FoldTrainer:
    def __init__(self, hp, train_graphs, val_graphs, device):
        self.hp = hp
        self.device = device
        self.scaler = StandardScaler.fit([g.y.item() for g in train_graphs])
        for g in train_graphs + val_graphs:
            g.y = self.scaler.transform(g.y)
        self.train_loader = DataLoader(train_graphs, batch_size=hp["batch_size"], shuffle=True, drop_last=True)
        self.val_loader = DataLoader(val_graphs, batch_size=256)
        self.net = make_model(hp).to(device)
        self.opt = torch.optim.AdamW(self.net.parameters(), lr=hp["lr"], weight_decay=hp["wd"])

    def fit(self, ckpt_path):
        best, wait = float("inf"), 0
        for epoch in range(self.hp["epochs"]):
            self.net.train()
            for batch in self.train_loader:
                batch = batch.to(self.device)
                pred = self.net(batch)
                loss = F.mse_loss(pred, batch.y.view_as(pred))
                self.opt.zero_grad()
                loss.backward()
                self.opt.step()
            v = val_loss(self.net, self.val_loader, self.device, self.scaler)
            if v < best:
                best, wait = v, 0
                torch.save({"model": self.net.state_dict(), "scaler": (self.scaler.mean, self.scaler.std)},
                           ckpt_path)
            else:
                wait += 1
                if wait >= self.hp["patience"]:
                    break
        return best ** 0.5


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", required=True)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--out", default="runs/esol")
    ap.add_argument("--hp", default="hparams.json")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    with open(args.hp) as fh:
        hp = json.load(fh)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    graphs = smiles_to_graphs(args.csv, target="measured_log_solubility")
    hp["atom_dim"] = graphs[0].x.size(1)
    kf = KFold(args.folds, shuffle=True, random_state=0)
    scores = []
    for k, (tr, va) in enumerate(kf.split(np.arange(len(graphs)))):
        trainer = FoldTrainer(hp, [graphs[i].clone() for i in tr], [graphs[i].clone() for i in va], device)
        scores.append(trainer.fit(os.path.join(args.out, f"fold{k}.pt")))
        print(f"fold {k}: val RMSE {scores[-1]:.4f}")
    print(f"CV RMSE {np.mean(scores):.4f} +- {np.std(scores):.4f}")
    with open(os.path.join(args.out, "hparams.json"), "w") as fh:
        json.dump(hp, fh)


if __name__ == "__main__":
    main()
