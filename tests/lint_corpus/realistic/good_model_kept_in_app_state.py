"""A FastAPI service: a loader returns the model in eval mode, start-up stores it in a global
dict, and the request handler takes it from there and runs it under inference_mode."""
from contextlib import asynccontextmanager

import torch
from fastapi import FastAPI

from ctr import CTRNet

STATE = {}


def load_model(path):
    net = CTRNet()
    net.load_state_dict(torch.load(path, map_location="cpu"))
    return net.eval()


@asynccontextmanager
async def lifespan(app):
    STATE["model"] = load_model("ctr.pt")
    yield
    STATE.clear()


app = FastAPI(lifespan=lifespan)


@app.post("/score")
def score(features: list[float]):
    net = STATE["model"]
    with torch.inference_mode():
        return {"score": torch.sigmoid(net(torch.tensor([features]))).item()}
