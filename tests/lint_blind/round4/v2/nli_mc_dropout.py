"""Monte-Carlo dropout uncertainty for an NLI classifier.

Dropout is switched back on *on purpose* while every other layer stays in inference
mode; we average T stochastic passes and report predictive entropy / mutual
information per example, then compare calibration with the deterministic pass.
"""
import argparse
import json

import numpy as np
import torch
import torch.nn as nn
from transformers import AutoModelForSequenceClassification, AutoTokenizer


def dropout_only_train_mode(net: nn.Module) -> int:
    """Put the network in eval mode except for its dropout layers."""
    net.eval()
    n = 0
    for mod in net.modules():
        if isinstance(mod, nn.Dropout):
            mod.train()
            n += 1
    return n


@torch.no_grad()
def mc_predict(net, enc, passes):
    probs = torch.stack([net(**enc).logits.softmax(-1) for _ in range(passes)])  # (T, B, C)
    mean = probs.mean(0)
    entropy = -(mean * mean.clamp_min(1e-12).log()).sum(-1)
    expected = -(probs * probs.clamp_min(1e-12).log()).sum(-1).mean(0)
    return mean, entropy, entropy - expected


@torch.no_grad()
def deterministic_predict(net, enc):
    net.eval()
    return net(**enc).logits.softmax(-1)


def ece(conf, correct, bins=15):
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (conf > lo) & (conf <= hi)
        if sel.any():
            total += sel.mean() * abs(correct[sel].mean() - conf[sel].mean())
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default="ckpt/roberta-mnli")
    ap.add_argument("--data", default="data/mnli_mismatched.jsonl")
    ap.add_argument("--passes", type=int, default=30)
    args = ap.parse_args()

    tok = AutoTokenizer.from_pretrained(args.ckpt)
    net = AutoModelForSequenceClassification.from_pretrained(args.ckpt).cuda()
    rows = [json.loads(l) for l in open(args.data)]

    det_conf, mc_conf, det_ok, mc_ok, mis = [], [], [], [], []
    for i in range(0, len(rows), 64):
        chunk = rows[i:i + 64]
        enc = tok([r["premise"] for r in chunk], [r["hypothesis"] for r in chunk],
                  truncation=True, padding=True, return_tensors="pt").to("cuda")
        gold = torch.tensor([r["label"] for r in chunk], device="cuda")

        p_det = deterministic_predict(net, enc)
        dropout_only_train_mode(net)
        p_mc, _, mi = mc_predict(net, enc, args.passes)

        det_conf.append(p_det.max(-1).values.cpu().numpy())
        det_ok.append((p_det.argmax(-1) == gold).cpu().numpy())
        mc_conf.append(p_mc.max(-1).values.cpu().numpy())
        mc_ok.append((p_mc.argmax(-1) == gold).cpu().numpy())
        mis.append(mi.cpu().numpy())

    det_conf, det_ok = np.concatenate(det_conf), np.concatenate(det_ok).astype(float)
    mc_conf, mc_ok = np.concatenate(mc_conf), np.concatenate(mc_ok).astype(float)
    print(f"deterministic acc {det_ok.mean():.4f} ECE {ece(det_conf, det_ok):.4f}")
    print(f"MC-dropout    acc {mc_ok.mean():.4f} ECE {ece(mc_conf, mc_ok):.4f}")
    print(f"mean mutual information {np.concatenate(mis).mean():.4f}")


if __name__ == "__main__":
    main()
