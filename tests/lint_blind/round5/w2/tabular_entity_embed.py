"""Entity-embedding network for store sales forecasting (Rossmann-style data).

Usage:
    python tabular_entity_embed.py --train train.csv --test test.csv --out submission.csv
"""
import argparse

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

CAT_COLS = ["Store", "DayOfWeek", "Promo", "StateHoliday", "SchoolHoliday",
            "StoreType", "Assortment", "Month", "Year"]
CONT_COLS = ["CompetitionDistance", "Promo2SinceWeek", "promo_days"]


def emb_size(cardinality):
    return min(50, (cardinality + 1) // 2)


class EntityEmbeddingNet(nn.Module):
    def __init__(self, cardinalities, n_cont, hidden=(1000, 500), emb_drop=0.04, drop=0.1):
        super().__init__()
        self.embeds = nn.ModuleList(
            [nn.Embedding(c, emb_size(c)) for c in cardinalities])
        n_emb = sum(e.embedding_dim for e in self.embeds)
        self.emb_drop = nn.Dropout(emb_drop)
        self.cont_bn = nn.BatchNorm1d(n_cont)
        blocks, width = [], n_emb + n_cont
        for h in hidden:
            blocks += [nn.Linear(width, h), nn.ReLU(), nn.BatchNorm1d(h), nn.Dropout(drop)]
            width = h
        self.body = nn.Sequential(*blocks)
        self.out = nn.Linear(width, 1)

    def forward(self, x_cat, x_cont):
        e = torch.cat([emb(x_cat[:, i]) for i, emb in enumerate(self.embeds)], dim=1)
        h = torch.cat([self.emb_drop(e), self.cont_bn(x_cont)], dim=1)
        return self.out(self.body(h)).squeeze(-1)


def prepare(df, encoders=None):
    df = df.copy()
    df["Date"] = pd.to_datetime(df["Date"])
    df["Month"], df["Year"] = df.Date.dt.month, df.Date.dt.year
    df = df.eval("promo_days = Promo * DayOfWeek")
    df[CONT_COLS] = df[CONT_COLS].fillna(0).astype("float32")
    encoders = encoders or {c: {v: i for i, v in enumerate(sorted(df[c].astype(str).unique()))}
                            for c in CAT_COLS}
    cats = np.stack([df[c].astype(str).map(encoders[c]).fillna(0).astype("int64").values
                     for c in CAT_COLS], axis=1)
    return torch.from_numpy(cats), torch.from_numpy(df[CONT_COLS].values), encoders


def fit(net, train_dl, valid_dl, epochs, lr):
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    for ep in range(epochs):
        net.train()
        for xc, xn, y in train_dl:
            loss = nn.functional.mse_loss(net(xc, xn), y)
            opt.zero_grad()
            loss.backward()
            opt.step()

        net.eval()
        with torch.no_grad():
            rmspe = []
            for xc, xn, y in valid_dl:
                pred = torch.exp(net(xc, xn))
                truth = torch.exp(y)
                rmspe.append(((truth - pred) / truth).pow(2).mean().sqrt().item())
        net.train()
        print(f"epoch {ep}: valid rmspe {np.mean(rmspe):.4f}")
    return net


def predict_frame(net, df, encoders, batch_size=8192):
    cats, conts, _ = prepare(df, encoders)
    outputs = []
    with torch.no_grad():
        for start in range(0, len(df), batch_size):
            chunk = net(cats[start:start + batch_size], conts[start:start + batch_size])  # expect: MG102
            outputs.append(torch.exp(chunk).numpy())
    return np.concatenate(outputs)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--train", required=True)
    p.add_argument("--test", required=True)
    p.add_argument("--out", default="submission.csv")
    p.add_argument("--epochs", type=int, default=10)
    args = p.parse_args()

    raw = pd.read_csv(args.train, low_memory=False)
    raw = raw[raw.Sales > 0]
    cats, conts, enc = prepare(raw)
    target = torch.log(torch.tensor(raw.Sales.values, dtype=torch.float32))
    cut = int(0.9 * len(raw))
    train_dl = DataLoader(TensorDataset(cats[:cut], conts[:cut], target[:cut]),
                          batch_size=512, shuffle=True, drop_last=True)
    valid_dl = DataLoader(TensorDataset(cats[cut:], conts[cut:], target[cut:]), batch_size=4096)

    cards = [len(enc[c]) + 1 for c in CAT_COLS]
    net = fit(EntityEmbeddingNet(cards, len(CONT_COLS)), train_dl, valid_dl, args.epochs, 1e-3)

    test = pd.read_csv(args.test, low_memory=False)
    test["Sales"] = predict_frame(net, test, enc)
    test[["Id", "Sales"]].to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
