"""FastAPI scoring service for a Deep Interest Network (DIN) CTR model."""
import os
import threading
from contextlib import asynccontextmanager
from typing import List

import torch
import torch.nn as nn
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel


class Dice(nn.Module):
    def __init__(self, dim, eps=1e-8):
        super().__init__()
        self.bn = nn.BatchNorm1d(dim, eps=eps, affine=False)
        self.alpha = nn.Parameter(torch.zeros(dim))

    def forward(self, x):
        shape = x.shape
        p = torch.sigmoid(self.bn(x.reshape(-1, shape[-1]))).reshape(shape)
        return p * x + (1 - p) * self.alpha * x


class LocalActivationUnit(nn.Module):
    def __init__(self, dim, hidden=36):
        super().__init__()
        self.fc1 = nn.Linear(4 * dim, hidden)
        self.act = Dice(hidden)
        self.fc2 = nn.Linear(hidden, 1)

    def forward(self, query, keys):
        q = query.unsqueeze(1).expand_as(keys)
        z = torch.cat([q, keys, q - keys, q * keys], dim=-1)
        return self.fc2(self.act(self.fc1(z))).squeeze(-1)


class DIN(nn.Module):
    def __init__(self, n_items, n_cates, dim=18):
        super().__init__()
        self.item = nn.Embedding(n_items, dim, padding_idx=0)
        self.cate = nn.Embedding(n_cates, dim, padding_idx=0)
        self.att = LocalActivationUnit(2 * dim)
        self.mlp = nn.Sequential(nn.Linear(4 * dim, 200), Dice(200), nn.Dropout(0.2),
                                 nn.Linear(200, 80), Dice(80), nn.Linear(80, 1))

    def forward(self, hist_items, hist_cates, item, cate):
        keys = torch.cat([self.item(hist_items), self.cate(hist_cates)], dim=-1)
        query = torch.cat([self.item(item), self.cate(cate)], dim=-1)
        w = self.att(query, keys).masked_fill(hist_items.eq(0), 0.0)
        interest = (w.unsqueeze(-1) * keys).sum(1)
        return self.mlp(torch.cat([interest, query], dim=-1)).squeeze(-1)


class ScoreRequest(BaseModel):
    hist_items: List[int]
    hist_cates: List[int]
    candidates: List[int]
    candidate_cates: List[int]


STATE = {}
_lock = threading.Lock()


def load_din(path):
    ckpt = torch.load(path, map_location="cpu")
    net = DIN(ckpt["n_items"], ckpt["n_cates"])
    net.load_state_dict(ckpt["state_dict"])
    return net.eval()


@asynccontextmanager
async def lifespan(app):
    STATE["model"] = load_din(os.environ.get("DIN_CKPT", "/models/din/latest.pt"))
    yield
    STATE.clear()


app = FastAPI(lifespan=lifespan)


@app.post("/score")
def score(req: ScoreRequest):
    if len(req.candidates) != len(req.candidate_cates):
        raise HTTPException(422, "candidates and candidate_cates differ in length")
    n = len(req.candidates)
    hist_i = torch.tensor(req.hist_items[-50:]).unsqueeze(0).repeat(n, 1)
    hist_c = torch.tensor(req.hist_cates[-50:]).unsqueeze(0).repeat(n, 1)
    net = STATE["model"]
    with torch.inference_mode():
        logits = net(hist_i, hist_c, torch.tensor(req.candidates), torch.tensor(req.candidate_cates))
    return {"scores": torch.sigmoid(logits).tolist()}


@app.post("/reload")
def reload(path: str):
    fresh = load_din(path)
    with _lock:
        STATE["model"] = fresh
    return {"reloaded": path}
