"""fastText-style bag-of-ngrams baseline for review-rating prediction.

Also prints a few corpus statistics first; the model has no dropout or normalisation
layers, so there is no train/eval distinction to manage.
"""
import argparse
import ast
import collections

import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F


class BagOfNgrams(nn.Module):
    def __init__(self, n_buckets, dim, n_classes):
        super().__init__()
        self.bag = nn.EmbeddingBag(n_buckets, dim, mode="mean")
        self.fc = nn.Linear(dim, n_classes)
        nn.init.uniform_(self.bag.weight, -1.0 / dim, 1.0 / dim)
        nn.init.zeros_(self.fc.weight)

    def forward(self, flat_ids, offsets):
        return self.fc(self.bag(flat_ids, offsets))


def hashed_ngrams(text, n_buckets, n=2):
    toks = text.lower().split()
    grams = toks + [" ".join(toks[i:i + n]) for i in range(len(toks) - n + 1)]
    return [hash(g) % n_buckets for g in grams] or [0]


def to_batch(texts, n_buckets):
    ids = [hashed_ngrams(t, n_buckets) for t in texts]
    offsets = torch.tensor([0] + [len(x) for x in ids[:-1]]).cumsum(0)
    return torch.tensor([i for x in ids for i in x]), offsets


def describe(df):
    df = df.eval("n_chars = text.str.len()", engine="python")
    df = df.eval("long_review = n_chars > 1000")
    print(df.groupby("stars")[["n_chars"]].describe())
    print("share of long reviews:", df["long_review"].mean())
    return df


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", default="data/reviews.csv")
    ap.add_argument("--class-weights", default="None", help="python literal, e.g. [1,1,2,2,1]")
    ap.add_argument("--buckets", type=int, default=2_000_000)
    ap.add_argument("--epochs", type=int, default=5)
    args = ap.parse_args()

    df = describe(pd.read_csv(args.csv))
    df = df.sample(frac=1.0, random_state=0)
    cut = int(0.9 * len(df))
    train_df, val_df = df.iloc[:cut], df.iloc[cut:]
    weights = ast.literal_eval(args.class_weights)
    weights = torch.tensor(weights, dtype=torch.float) if weights is not None else None

    clf = BagOfNgrams(args.buckets, 64, n_classes=5)
    opt = torch.optim.SGD(clf.parameters(), lr=0.5)
    val_x = to_batch(val_df["text"].tolist(), args.buckets)
    val_y = torch.tensor(val_df["stars"].values - 1)
    print(collections.Counter(val_y.tolist()))

    step = 0
    for epoch in range(args.epochs):
        for start in range(0, len(train_df), 256):
            chunk = train_df.iloc[start:start + 256]
            ids, offs = to_batch(chunk["text"].tolist(), args.buckets)
            y = torch.tensor(chunk["stars"].values - 1)
            loss = F.cross_entropy(clf(ids, offs), y, weight=weights)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step % 500 == 0:
                with torch.no_grad():
                    acc = (clf(*val_x).argmax(1) == val_y).float().mean().item()
                print(f"epoch {epoch} step {step} loss {loss.item():.4f} val acc {acc:.4f}")


if __name__ == "__main__":
    main()
