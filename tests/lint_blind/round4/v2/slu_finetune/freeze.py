"""Helpers for fine-tuning pretrained encoders with small batches."""
import torch.nn as nn

_BN_TYPES = (nn.BatchNorm1d, nn.BatchNorm2d, nn.SyncBatchNorm)


def freeze_bn_statistics(module: nn.Module) -> int:
    """Use the pretrained running mean/var instead of noisy per-batch statistics.

    The affine parameters are still fine-tuned."""
    count = 0
    for m in module.modules():
        if isinstance(m, _BN_TYPES):
            m.eval()  # expect: MG301
            count += 1
    return count


def layerwise_lr_groups(model, base_lr, decay=0.8):
    """Smaller learning rates for lower transformer layers."""
    groups = [{"params": list(model.head.parameters()), "lr": base_lr}]
    blocks = list(model.encoder.transformer.layers)
    for depth, blk in enumerate(reversed(blocks)):
        groups.append({"params": list(blk.parameters()), "lr": base_lr * decay ** (depth + 1)})
    groups.append({"params": list(model.encoder.frontend.parameters()),
                   "lr": base_lr * decay ** (len(blocks) + 1)})
    return groups


def reinit_head(model, std=0.02):
    """Fresh classifier weights when the label set changes between runs."""
    for m in model.head.modules():
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=std)
            nn.init.zeros_(m.bias)


def count_trainable(model) -> str:
    n_train = sum(p.numel() for p in model.parameters() if p.requires_grad)
    n_all = sum(p.numel() for p in model.parameters())
    return f"{n_train / 1e6:.2f}M / {n_all / 1e6:.2f}M parameters trainable"
