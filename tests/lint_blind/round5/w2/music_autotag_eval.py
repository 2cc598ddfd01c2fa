"""Evaluate a trained music auto-tagging model on the MTG-Jamendo top-50 test split.

    python music_autotag_eval.py --arch harmonic_cnn --ckpt best.pth \
        --tag-filter "t.startswith('genre---')" --csv results.csv
"""
import argparse
import json

import numpy as np
import pandas as pd
import torch
from sklearn import metrics

from tagging.models import MODEL_REGISTRY
from tagging.data import JamendoTestChunks


def chunk_average(model, loader, device):
    """Average sigmoid outputs over all chunks of each track."""
    per_track, labels = {}, {}
    with torch.inference_mode():
        for chunks, target, track_ids in loader:
            probs = torch.sigmoid(model(chunks.to(device))).cpu().numpy()
            for tid, p, y in zip(track_ids, probs, target.numpy()):
                per_track.setdefault(tid, []).append(p)
                labels[tid] = y
    tids = sorted(per_track)
    est = np.stack([np.mean(per_track[t], axis=0) for t in tids])
    gt = np.stack([labels[t] for t in tids])
    return est, gt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", choices=sorted(MODEL_REGISTRY), default="short_chunk_cnn")
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--root", default="/data/mtg-jamendo")
    ap.add_argument("--tag-filter", default="True", help="python expression over tag name t")
    ap.add_argument("--csv", default=None)
    args = ap.parse_args()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = MODEL_REGISTRY[args.arch](n_classes=50)
    model.load_state_dict(torch.load(args.ckpt, map_location="cpu"))
    model.to(device).eval()

    test = JamendoTestChunks(args.root, chunk_seconds=3.69)
    loader = torch.utils.data.DataLoader(test, batch_size=1, num_workers=4)
    est, gt = chunk_average(model, loader, device)

    keep = eval(f"lambda t: {args.tag_filter}")
    rows = []
    for j, tag in enumerate(test.tags):
        if not keep(tag) or gt[:, j].sum() == 0:
            continue
        rows.append({"tag": tag,
                     "roc_auc": metrics.roc_auc_score(gt[:, j], est[:, j]),
                     "pr_auc": metrics.average_precision_score(gt[:, j], est[:, j]),
                     "support": int(gt[:, j].sum())})
    df = pd.DataFrame(rows).sort_values("roc_auc")
    df = df.eval("gap = roc_auc - pr_auc")
    print(df.to_string(index=False, float_format="%.4f"))
    summary = {"macro_roc_auc": float(df.roc_auc.mean()), "macro_pr_auc": float(df.pr_auc.mean()),
               "n_tags": len(df)}
    print(json.dumps(summary, indent=2))
    if args.csv:
        df.to_csv(args.csv, index=False)


if __name__ == "__main__":
    main()
