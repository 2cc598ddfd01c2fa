"""Nightly batch job: score every (user, item) candidate pair for tomorrow's email campaign.

Reads candidate parquet partitions, scores them with the CTR model and writes the top-k per user.
"""
import argparse
import glob
import logging
import os
from dataclasses import dataclass

import pandas as pd
import pyarrow.parquet as pq
import torch

from ctr_models import registry
from ctr_models.features import FeatureEncoder

log = logging.getLogger("batch_scoring")


@dataclass
class JobConfig:
    model_name: str
    checkpoint: str
    input_glob: str
    output_dir: str
    chunk_rows: int = 200_000
    top_k: int = 20
    device: str = "cuda"


class BatchScorer:
    def __init__(self, cfg: JobConfig):
        self.cfg = cfg
        ckpt = torch.load(cfg.checkpoint, map_location="cpu")
        self.encoder = FeatureEncoder.from_state(ckpt["encoder"])
        self.net = registry.build(cfg.model_name, **ckpt["model_args"])
        self.net.load_state_dict(ckpt["state_dict"])
        self.net.to(cfg.device).eval()

    @torch.inference_mode()
    def score_frame(self, df: pd.DataFrame) -> pd.Series:
        sparse, dense = self.encoder.transform(df)
        out = []
        for start in range(0, len(df), 65536):
            s = sparse[start:start + 65536].to(self.cfg.device, non_blocking=True)
            d = dense[start:start + 65536].to(self.cfg.device, non_blocking=True)
            with torch.autocast("cuda", dtype=torch.float16, enabled=self.cfg.device == "cuda"):
                logits = self.net(s, d)
            out.append(torch.sigmoid(logits.float()).cpu())
        return pd.Series(torch.cat(out).numpy(), index=df.index, name="p_click")

    def run_partition(self, path: str) -> pd.DataFrame:
        pf = pq.ParquetFile(path)
        tops = []
        for rb in pf.iter_batches(batch_size=self.cfg.chunk_rows):
            df = rb.to_pandas()
            df = df.eval("days_since_open = (snapshot_ts - last_open_ts) / 86400")
            df = df.query("is_subscribed == 1 and days_since_open < 180")
            if df.empty:
                continue
            df["p_click"] = self.score_frame(df)
            tops.append(df.sort_values("p_click", ascending=False)
                          .groupby("user_id", sort=False).head(self.cfg.top_k))
        if not tops:
            return pd.DataFrame()
        merged = pd.concat(tops)
        return merged.sort_values("p_click", ascending=False).groupby("user_id").head(self.cfg.top_k)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="dcn_v2")
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--input", required=True, help="glob of candidate parquet files")
    ap.add_argument("--output", required=True)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    cfg = JobConfig(a.model, a.ckpt, a.input, a.output, device=a.device)
    scorer = BatchScorer(cfg)
    os.makedirs(cfg.output_dir, exist_ok=True)
    for path in sorted(glob.glob(cfg.input_glob)):
        result = scorer.run_partition(path)
        name = os.path.basename(path).replace(".parquet", ".top.parquet")
        result[["user_id", "item_id", "p_click"]].to_parquet(os.path.join(cfg.output_dir, name))
        log.info("%s: %d rows written", name, len(result))


if __name__ == "__main__":
    main()
