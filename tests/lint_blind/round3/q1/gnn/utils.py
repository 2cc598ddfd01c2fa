import random

import numpy as np
import torch


def set_seed(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


class EarlyStopper:
    def __init__(self, patience=20, mode="max"):
        self.patience = patience
        self.sign = 1 if mode == "max" else -1
        self.best = -float("inf")
        self.bad = 0
        self.best_state = None

    def step(self, score, model):
        if self.sign * score > self.best:
            self.best = self.sign * score
            self.bad = 0
            self.best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
            return False
        self.bad += 1
        return self.bad >= self.patience


@torch.no_grad()
def evaluate(model, x, y, split_idx, subgraph_loader, evaluator, device):
    """Full-graph accuracy on train/valid/test with layer-wise inference."""
    model.eval()
    out = model.inference(x, subgraph_loader, device)
    y_pred = out.argmax(dim=-1, keepdim=True)
    res = {}
    for split in ("train", "valid", "test"):
        idx = split_idx[split]
        res[split] = evaluator.eval({"y_true": y[idx], "y_pred": y_pred[idx]})["acc"]
    return res


def log_results(run, epoch, loss, res, every=1):
    if epoch % every == 0:
        print(f"run {run:02d} epoch {epoch:03d} loss {loss:.4f} "
              f"train {100 * res['train']:.2f}% valid {100 * res['valid']:.2f}% test {100 * res['test']:.2f}%")
