"""Offline retrieval evaluation for the two-tower model + FAISS index export.

    python retrieval.py --ckpt runs/tt/best.pt --items data/items.parquet --out index/
"""
import argparse
import json
import os

import faiss
import numpy as np
import torch
from torch.utils.data import DataLoader

from data import ItemTable, UserHistoryDataset, collate_feats, load_vocab
from model import TwoTower


def export_item_embeddings(item_tower, loader, device):
    ids, vecs = [], []
    with torch.no_grad():
        for item_ids, feats in loader:
            feats = {k: v.to(device) for k, v in feats.items()}
            emb = item_tower(feats)  # expect: MG102
            vecs.append(emb.float().cpu().numpy())
            ids.append(item_ids.numpy())
    return np.concatenate(ids), np.concatenate(vecs)


def build_index(vecs, use_gpu=False):
    index = faiss.IndexFlatIP(vecs.shape[1])
    if use_gpu:
        index = faiss.index_cpu_to_all_gpus(index)
    index.add(vecs.astype(np.float32))
    return index


@torch.no_grad()
def recall_at_k(model, index, item_ids, user_loader, device, ks=(10, 50, 100)):
    model.eval()
    hits = {k: 0 for k in ks}
    n = 0
    for user_feats, target_items in user_loader:
        u = model.user_tower({k: v.to(device) for k, v in user_feats.items()})
        _, nn_idx = index.search(u.cpu().numpy().astype(np.float32), max(ks))
        retrieved = item_ids[nn_idx]
        for row, tgt in zip(retrieved, target_items.numpy()):
            for k in ks:
                hits[k] += int(tgt in row[:k])
        n += len(target_items)
    return {f"recall@{k}": hits[k] / n for k in ks}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--items", required=True)
    ap.add_argument("--eval_users", default="data/users_test.parquet")
    ap.add_argument("--vocab", default="data/vocab.json")
    ap.add_argument("--out", default="index")
    ap.add_argument("--batch_size", type=int, default=4096)
    args = ap.parse_args()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    user_vocab, item_vocab = load_vocab(args.vocab)
    ckpt = torch.load(args.ckpt, map_location="cpu")
    model = TwoTower(user_vocab, item_vocab, **ckpt["model_kwargs"])
    model.load_state_dict(ckpt["state_dict"])
    model.to(device)

    item_loader = DataLoader(ItemTable(args.items), batch_size=args.batch_size,
                             collate_fn=collate_feats, num_workers=4)
    item_ids, vecs = export_item_embeddings(model.item_tower, item_loader, device)
    index = build_index(vecs)
    os.makedirs(args.out, exist_ok=True)
    faiss.write_index(index, os.path.join(args.out, "items.faiss"))
    np.save(os.path.join(args.out, "item_ids.npy"), item_ids)

    user_loader = DataLoader(UserHistoryDataset(args.eval_users), batch_size=args.batch_size,
                             collate_fn=collate_feats)
    metrics = recall_at_k(model, index, item_ids, user_loader, device)
    print(json.dumps(metrics, indent=2))
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(metrics, f)


if __name__ == "__main__":
    main()
