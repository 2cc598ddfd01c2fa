"""Grad-CAM++ and SmoothGrad saliency for a timm EfficientNet classifier.

Gradients are needed w.r.t. activations/inputs, so there is no no_grad here;
the network itself is frozen and in inference mode, nothing is optimised.
"""
import argparse
from pathlib import Path

import numpy as np
import timm
import torch
import torch.nn.functional as F
from PIL import Image
from timm.data import resolve_data_config, create_transform


def gradcam_pp(net, layer, x, target=None):
    store = {}
    h1 = layer.register_forward_hook(lambda m, i, o: store.__setitem__("a", o))
    h2 = layer.register_full_backward_hook(lambda m, gi, go: store.__setitem__("g", go[0]))
    try:
        # weights are frozen, so let the graph start at the input
        logits = net(x.clone().requires_grad_(True))
        target = logits.argmax(1) if target is None else target
        net.zero_grad(set_to_none=True)
        logits.gather(1, target[:, None]).sum().backward()
    finally:
        h1.remove()
        h2.remove()
    a, g = store["a"].detach(), store["g"].detach()
    g2, g3 = g.pow(2), g.pow(3)
    denom = 2 * g2 + (a * g3).sum(dim=(2, 3), keepdim=True)
    alpha = g2 / torch.where(denom != 0, denom, torch.ones_like(denom))
    w = (alpha * F.relu(g)).sum(dim=(2, 3), keepdim=True)
    cam = F.relu((w * a).sum(1, keepdim=True))
    cam = F.interpolate(cam, x.shape[-2:], mode="bilinear", align_corners=False)[:, 0]
    cam -= cam.flatten(1).min(1)[0][:, None, None]
    return cam / cam.flatten(1).max(1)[0][:, None, None].clamp(min=1e-8), target


def smoothgrad(net, x, target, n=25, sigma=0.15):
    total = torch.zeros_like(x)
    span = (x.max() - x.min()).item()
    for _ in range(n):
        noisy = (x + torch.randn_like(x) * sigma * span).requires_grad_(True)
        score = net(noisy).gather(1, target[:, None]).sum()
        (grad,) = torch.autograd.grad(score, noisy)
        total += grad
    return (total / n).abs().amax(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", type=Path)
    ap.add_argument("--arch", default="efficientnet_b3")
    ap.add_argument("--ckpt", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=Path("saliency"))
    args = ap.parse_args()

    net = timm.create_model(args.arch, num_classes=200, checkpoint_path=str(args.ckpt))
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    tf = create_transform(**resolve_data_config({}, model=net))
    args.out.mkdir(parents=True, exist_ok=True)
    for path in sorted(args.folder.glob("*.jpg")):
        x = tf(Image.open(path).convert("RGB"))[None]
        cam, cls = gradcam_pp(net, net.conv_head, x)
        sg = smoothgrad(net, x, cls)
        np.savez_compressed(args.out / f"{path.stem}.npz", cam=cam[0].numpy(), smoothgrad=sg[0].numpy(),
                            label=int(cls))
        print(path.name, int(cls))


if __name__ == "__main__":
    main()
