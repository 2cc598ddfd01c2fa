"""PyTorch port of our Keras DCN-v2 click-through-rate model, plus warm-start fine-tuning.

Hyper-parameters mirror the production Keras config so that offline numbers
stay comparable (embedding 16, cross depth 3, deep tower 512-256).
"""
import argparse

import pandas as pd
import torch
import torch.nn as nn
from sklearn.metrics import log_loss, roc_auc_score
from torch.utils.data import DataLoader, TensorDataset


class CrossLayer(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.lin = nn.Linear(dim, dim)

    def forward(self, x0, x):
        return x0 * self.lin(x) + x


class DCNv2(nn.Module):
    def __init__(self, cardinalities, n_dense, emb_dim=16, cross_depth=3, deep=(512, 256), drop=0.2):
        super().__init__()
        self.embeddings = nn.ModuleList(nn.Embedding(c + 1, emb_dim) for c in cardinalities)
        self.dense_bn = nn.BatchNorm1d(n_dense)
        dim = emb_dim * len(cardinalities) + n_dense
        self.cross = nn.ModuleList(CrossLayer(dim) for _ in range(cross_depth))
        layers, prev = [], dim
        for width in deep:
            layers.append(nn.Linear(prev, width))
            layers.append(nn.BatchNorm1d(width, momentum=0.99, eps=1e-3))  # expect: MG303
            layers.append(nn.ReLU())
            layers.append(nn.Dropout(drop))
            prev = width
        self.deep = nn.Sequential(*layers)
        self.out = nn.Linear(dim + prev, 1)

    def forward(self, cat, dense):
        emb = torch.cat([e(cat[:, i]) for i, e in enumerate(self.embeddings)], dim=1)
        x0 = torch.cat([emb, self.dense_bn(dense)], dim=1)
        x = x0
        for layer in self.cross:
            x = layer(x0, x)
        return self.out(torch.cat([x, self.deep(x0)], dim=1)).squeeze(1)


def freeze_feature_layers(net):
    """Warm start: embeddings and the dense-input normalisation keep their pretrained values."""
    for emb in net.embeddings:
        emb.weight.requires_grad_(False)
    net.dense_bn.requires_grad_(False)  # expect: MG302


def load_frame(path, cat_cols, dense_cols):
    df = pd.read_parquet(path)
    cat = torch.tensor(df[cat_cols].to_numpy(), dtype=torch.long)
    dense = torch.tensor(df[dense_cols].fillna(0).to_numpy(), dtype=torch.float32)
    label = torch.tensor(df["clicked"].to_numpy(), dtype=torch.float32)
    return TensorDataset(cat, dense, label)


@torch.no_grad()
def score(net, loader, device):
    net.eval()
    preds, labels = [], []
    for cat, dense, y in loader:
        preds.append(torch.sigmoid(net(cat.to(device), dense.to(device))).cpu())
        labels.append(y)
    p, y = torch.cat(preds).numpy(), torch.cat(labels).numpy()
    return roc_auc_score(y, p), log_loss(y, p.clip(1e-7, 1 - 1e-7))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--valid", required=True)
    ap.add_argument("--schema", required=True, help="json with cat/dense columns and cardinalities")
    ap.add_argument("--warm-start", default=None)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--bs", type=int, default=4096)
    args = ap.parse_args()

    schema = pd.read_json(args.schema, typ="series")
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    net = DCNv2(schema["cardinalities"], len(schema["dense"])).to(device)
    if args.warm_start:
        net.load_state_dict(torch.load(args.warm_start, map_location=device))
        freeze_feature_layers(net)

    train_dl = DataLoader(load_frame(args.train, schema["cat"], schema["dense"]), batch_size=args.bs,
                          shuffle=True, drop_last=True, num_workers=4)
    valid_dl = DataLoader(load_frame(args.valid, schema["cat"], schema["dense"]), batch_size=16384)
    opt = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=1e-3)
    bce = nn.BCEWithLogitsLoss()

    for epoch in range(args.epochs):
        net.train()
        for i, (cat, dense, y) in enumerate(train_dl):
            loss = bce(net(cat.to(device), dense.to(device)), y.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
            if i % 500 == 0:
                print(f"epoch {epoch} batch {i} loss {loss.item():.5f}")
        auc, ll = score(net, valid_dl, device)
        print(f"epoch {epoch}: valid AUC {auc:.5f} logloss {ll:.5f}")
    torch.save(net.state_dict(), "dcnv2.pt")


if __name__ == "__main__":
    main()
