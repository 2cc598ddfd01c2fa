"""Embed a passage collection with a trained bi-encoder and write a FAISS index.

usage: python embed_passages.py --ckpt runs/dpr/step_40000.pt --corpus psgs.tsv --out index/
"""
import argparse
import csv
import os

import faiss
import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm
from transformers import AutoTokenizer

from dprlite.modeling import BiEncoder, BiEncoderConfig


class PassageFile(Dataset):
    def __init__(self, path):
        with open(path, newline="") as fh:
            rows = csv.reader(fh, delimiter="\t")
            next(rows)
            self.rows = [(r[0], r[2], r[1]) for r in rows]  # id, title, text

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        return self.rows[i]


def make_collate(tokenizer, max_len):
    def collate(items):
        ids = [it[0] for it in items]
        enc = tokenizer([it[1] for it in items], [it[2] for it in items], padding=True,
                        truncation="only_second", max_length=max_len, return_tensors="pt")
        return ids, enc
    return collate


def embed_corpus(ctx_encoder, loader, device, use_amp=True):
    all_ids, chunks = [], []
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.float16, enabled=use_amp):
        for ids, enc in tqdm(loader, desc="embedding"):
            enc = {k: v.to(device, non_blocking=True) for k, v in enc.items()}
            vec = ctx_encoder(**enc)  # expect: MG102
            chunks.append(F.normalize(vec.float(), dim=-1).cpu().numpy())
            all_ids.extend(ids)
    return all_ids, np.concatenate(chunks)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--base", default="bert-base-uncased")
    ap.add_argument("--bs", type=int, default=512)
    ap.add_argument("--max-len", type=int, default=256)
    args = ap.parse_args()

    device = torch.device("cuda")
    tok = AutoTokenizer.from_pretrained(args.base)
    bi = BiEncoder(BiEncoderConfig(base=args.base, pooling="cls", proj_dim=768))
    state = torch.load(args.ckpt, map_location="cpu")
    bi.load_state_dict(state["model"])
    ctx_encoder = bi.ctx_encoder.to(device)

    loader = DataLoader(PassageFile(args.corpus), batch_size=args.bs, num_workers=4,
                        collate_fn=make_collate(tok, args.max_len))
    ids, mat = embed_corpus(ctx_encoder, loader, device)

    index = faiss.IndexFlatIP(mat.shape[1])
    index.add(mat.astype(np.float32))
    os.makedirs(args.out, exist_ok=True)
    faiss.write_index(index, os.path.join(args.out, "passages.faiss"))
    with open(os.path.join(args.out, "ids.txt"), "w") as fh:
        fh.write("\n".join(ids))
    print(f"indexed {index.ntotal} passages, dim {mat.shape[1]}")


if __name__ == "__main__":
    main()
