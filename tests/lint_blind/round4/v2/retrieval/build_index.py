"""Corpus embedding, FAISS index construction and recall@k evaluation."""
import faiss
import numpy as np
import torch

from encoder import SentenceEncoder, eval_mode


def embed_texts(encoder, tokenizer, texts, device, batch_size=256, prefix="passage: "):
    chunks = []
    with eval_mode(encoder):
        for i in range(0, len(texts), batch_size):
            enc = tokenizer([prefix + t for t in texts[i:i + batch_size]], padding=True,
                            truncation=True, max_length=256, return_tensors="pt").to(device)
            chunks.append(encoder(enc["input_ids"], enc["attention_mask"]).float().cpu().numpy())
    return np.concatenate(chunks).astype("float32")


def build_flat_index(vectors):
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    return index


def recall_at_k(encoder, tokenizer, queries, corpus, gold, device, ks=(1, 5, 20)):
    """gold[i] is the set of corpus positions relevant to queries[i]."""
    index = build_flat_index(embed_texts(encoder, tokenizer, corpus, device))
    q = embed_texts(encoder, tokenizer, queries, device, prefix="query: ")
    _, top = index.search(q, max(ks))
    return {f"R@{k}": float(np.mean([len(set(row[:k]) & g) > 0 for row, g in zip(top, gold)])) for k in ks}


if __name__ == "__main__":
    import argparse
    import json
    from transformers import AutoTokenizer

    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    device = "cuda"
    tok = AutoTokenizer.from_pretrained("intfloat/e5-base")
    enc = SentenceEncoder().to(device)
    enc.load_state_dict(torch.load(args.ckpt, map_location="cpu"))
    docs = [json.loads(l)["text"] for l in open(args.corpus)]
    faiss.write_index(build_flat_index(embed_texts(enc, tok, docs, device)), args.out)
