"""Candidate re-ranking microservice.

POST /rank  {"user_id": 17, "context": {...}, "candidates": [101, 55, 7]}
"""
import logging
import os
import time

import numpy as np
import torch
from flask import Flask, jsonify, request

from reco.features import FeatureStore
from reco.models import load_ranker

app = Flask(__name__)
log = logging.getLogger("ranker-svc")

MODEL_PATH = os.environ.get("RANKER_CKPT", "/models/ranker/current.pt")
MAX_CANDIDATES = int(os.environ.get("MAX_CANDIDATES", "500"))

features = FeatureStore(os.environ.get("FEATURE_STORE_URL", "redis://localhost:6379/2"))
ranker = load_ranker(MODEL_PATH, map_location="cpu")
ranker.eval()
torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "4")))


def _tensorize(user_id, context, candidates):
    user_vec = features.user_vector(user_id)
    item_mat = features.item_matrix(candidates)
    ctx = np.array([context.get("hour", 0), context.get("weekday", 0),
                    int(context.get("is_app", False))], dtype=np.int64)
    return (torch.from_numpy(user_vec).unsqueeze(0).expand(len(candidates), -1),
            torch.from_numpy(item_mat),
            torch.from_numpy(ctx).unsqueeze(0).expand(len(candidates), -1))


@app.route("/healthz")
def healthz():
    return jsonify(status="ok", model=os.path.basename(MODEL_PATH))


@app.route("/rank", methods=["POST"])
def rank():
    t0 = time.perf_counter()
    payload = request.get_json(force=True)
    candidates = payload.get("candidates") or []
    if not candidates:
        return jsonify(error="no candidates"), 400
    if len(candidates) > MAX_CANDIDATES:
        candidates = candidates[:MAX_CANDIDATES]

    user_t, item_t, ctx_t = _tensorize(payload["user_id"], payload.get("context", {}), candidates)
    scores = ranker(user_t, item_t, ctx_t)  # expect: MG401
    probs = torch.sigmoid(scores).detach().numpy().ravel()

    order = np.argsort(-probs)
    ranked = [{"item_id": int(candidates[i]), "score": float(probs[i])} for i in order]
    latency_ms = (time.perf_counter() - t0) * 1000.0
    log.info("ranked %d candidates in %.1f ms", len(candidates), latency_ms)
    return jsonify(items=ranked, latency_ms=round(latency_ms, 2))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", "8080")))
