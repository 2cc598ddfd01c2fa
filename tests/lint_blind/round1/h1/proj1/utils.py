import os
import logging

import numpy as np
import torch
import torch.nn.functional as F

logger = logging.getLogger("pointcls")


class AverageMeter:
    def __init__(self):
        self.reset()

    def reset(self):
        self.sum, self.count = 0.0, 0

    def update(self, val, n=1):
        self.sum += val * n
        self.count += n

    @property
    def avg(self):
        return self.sum / max(self.count, 1)


def evaluate(model, loader, device, num_classes=40):
    """Overall and mean per-class accuracy on `loader`."""
    model.eval()  # expect: MG101
    correct = np.zeros(num_classes)
    seen = np.zeros(num_classes)
    nll = AverageMeter()
    with torch.no_grad():
        for points, target in loader:
            points = points.transpose(2, 1).to(device)
            target = target.view(-1).to(device)
            logp, _ = model(points)
            nll.update(F.nll_loss(logp, target).item(), target.size(0))
            pred = logp.argmax(1)
            for c in range(num_classes):
                m = target == c
                seen[c] += m.sum().item()
                correct[c] += (pred[m] == c).sum().item()
    oa = correct.sum() / seen.sum()
    macc = np.mean(correct[seen > 0] / seen[seen > 0])
    return {"oa": oa, "macc": macc, "loss": nll.avg}


def save_ckpt(state, out_dir, name):
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, name)
    torch.save(state, path)
    logger.info("saved %s", path)
    return path
