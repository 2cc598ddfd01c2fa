"""FreezeD (Mo et al. 2020): keep the lower discriminator blocks fixed while fine-tuning."""
import torch.nn as nn


def freeze_lower_discriminator(D, n_frozen):
    frozen = 0
    for blk in D.blocks[:n_frozen]:
        for m in blk.modules():
            if isinstance(m, nn.Conv2d):
                for p in m.parameters():
                    p.requires_grad_(False)
                frozen += 1
            elif isinstance(m, nn.BatchNorm2d):
                m.eval()  # expect: MG301
    return frozen


def trainable(params):
    return [p for p in params if p.requires_grad]
