"""Average the k fold models on an external test set of SMILES and write predictions."""
import argparse
import glob
import json
import os

import numpy as np
import pandas as pd
import torch
from torch_geometric.loader import DataLoader

from featurize import smiles_to_graphs
from metrics import StandardScaler, mae, predict, rmse
from models import make_model


def load_fold(path, hp, device):
    ckpt = torch.load(path, map_location="cpu")
    net = make_model(hp)
    net.load_state_dict(ckpt["model"])
    return net.to(device), StandardScaler(*ckpt["scaler"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True, help="directory with fold*.pt and hparams.json")
    ap.add_argument("--csv", required=True)
    ap.add_argument("--out", default="predictions.csv")
    args = ap.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    with open(os.path.join(args.run, "hparams.json")) as fh:
        hp = json.load(fh)
    df = pd.read_csv(args.csv)
    has_target = "measured_log_solubility" in df.columns
    graphs = smiles_to_graphs(args.csv, target="measured_log_solubility" if has_target else None)
    loader = DataLoader(graphs, batch_size=256)

    fold_preds = []
    for path in sorted(glob.glob(os.path.join(args.run, "fold*.pt"))):
        net, scaler = load_fold(path, hp, device)
        fold_preds.append(scaler.inverse(predict(net, loader, device)).ravel())
        print(f"{os.path.basename(path)} done")
    fold_preds = np.stack(fold_preds)
    df["pred_mean"] = fold_preds.mean(0)
    df["pred_std"] = fold_preds.std(0)
    df.to_csv(args.out, index=False)
    if has_target:
        y = df["measured_log_solubility"].values
        print(f"ensemble RMSE {rmse(y, df.pred_mean):.4f}  MAE {mae(y, df.pred_mean):.4f}")
        for k, p in enumerate(fold_preds):
            print(f"  fold {k} alone: RMSE {rmse(y, p):.4f}")


if __name__ == "__main__":
    main()
