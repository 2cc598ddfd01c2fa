import os
import random

import numpy as np
import torch
import torch.nn as nn


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


def freeze_encoder_bn(net):
    """Keep the pretrained (self-supervised) encoder's BN statistics: batch size is 2."""
    n = 0
    for m in net.encoder.modules():
        if isinstance(m, nn.BatchNorm3d):
            m.eval()  # expect: MG301
            n += 1
    return n


def load_pretrained_encoder(net, path):
    sd = torch.load(path, map_location="cpu")
    sd = {k[len("encoder."):]: v for k, v in sd.items() if k.startswith("encoder.")}
    missing, unexpected = net.encoder.load_state_dict(sd, strict=False)
    return missing, unexpected


def save_checkpoint(state, out_dir, name="last.pt"):
    os.makedirs(out_dir, exist_ok=True)
    torch.save(state, os.path.join(out_dir, name))


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
