"""Flag low-confidence customer-support messages for human triage.

Predictive uncertainty comes from Monte-Carlo dropout (Gal & Ghahramani, 2016):
the classifier runs in eval mode (LayerNorm/embeddings deterministic) but its
nn.Dropout modules are switched back on explicitly, and we average T passes.
"""
import argparse
import json

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from transformers import AutoModelForSequenceClassification, AutoTokenizer


def enable_mc_dropout(model: nn.Module) -> int:
    n = 0
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.train()
            n += 1
    return n


@torch.inference_mode()
def mc_predict(model, enc, passes=20):
    probs = torch.stack([model(**enc).logits.softmax(-1) for _ in range(passes)])
    mean = probs.mean(0)
    entropy = -(mean * mean.clamp_min(1e-12).log()).sum(-1)
    # mutual information between prediction and weights (BALD)
    expected_ent = -(probs * probs.clamp_min(1e-12).log()).sum(-1).mean(0)
    return mean, entropy, entropy - expected_ent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model_dir", default="ckpt/support-intent")
    ap.add_argument("--inbox", default="data/inbox.jsonl")
    ap.add_argument("--passes", type=int, default=20)
    ap.add_argument("--bald_threshold", type=float, default=0.15)
    args = ap.parse_args()

    tok = AutoTokenizer.from_pretrained(args.model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(args.model_dir)
    model.eval()
    n_drop = enable_mc_dropout(model)
    print(f"MC dropout active in {n_drop} modules")

    with open(args.inbox) as fh:
        msgs = [json.loads(line) for line in fh]
    rows = []
    for i in range(0, len(msgs), 32):
        chunk = msgs[i:i + 32]
        enc = tok([m["text"] for m in chunk], padding=True, truncation=True, max_length=128, return_tensors="pt")
        mean, ent, bald = mc_predict(model, enc, args.passes)
        for m, p, e, b in zip(chunk, mean, ent, bald):
            rows.append({"id": m["id"], "intent": model.config.id2label[int(p.argmax())],
                         "conf": float(p.max()), "entropy": float(e), "bald": float(b)})

    df = pd.DataFrame(rows)
    triage = df.query("bald > @args.bald_threshold or conf < 0.5")
    print(df.eval("uncertain = bald > 0.15")["uncertain"].mean(), "of messages are uncertain")
    triage.to_csv("needs_human.csv", index=False)
    print(f"{len(triage)} / {len(df)} messages routed to humans; mean entropy {np.mean(df.entropy):.3f}")


if __name__ == "__main__":
    main()
