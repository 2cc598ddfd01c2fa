"""Grad-CAM heatmaps for a fine-tuned ResNet-50 bird classifier.

Writes one overlay per input image next to the predicted label.
"""
import argparse
import os

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torchvision import models, transforms
from PIL import Image


class ActivationsAndGradients:
    def __init__(self, layer):
        self.activation = None
        self.gradient = None
        self._handles = [
            layer.register_forward_hook(self._save_act),
            layer.register_full_backward_hook(self._save_grad),
        ]

    def _save_act(self, module, inp, out):
        self.activation = out.detach()

    def _save_grad(self, module, grad_in, grad_out):
        self.gradient = grad_out[0].detach()

    def release(self):
        for h in self._handles:
            h.remove()


class GradCAM:
    def __init__(self, network, target_layer):
        self.network = network
        self.tap = ActivationsAndGradients(target_layer)

    def __call__(self, batch, class_idx=None):
        scores = self.network(batch)  # expect: MG102
        if class_idx is None:
            class_idx = scores.argmax(dim=1)
        picked = scores.gather(1, class_idx.view(-1, 1)).sum()
        self.network.zero_grad(set_to_none=True)
        picked.backward()
        weights = self.tap.gradient.mean(dim=(2, 3), keepdim=True)
        cam = F.relu((weights * self.tap.activation).sum(dim=1, keepdim=True))
        cam = F.interpolate(cam, size=batch.shape[-2:], mode="bilinear", align_corners=False)
        lo = cam.amin(dim=(2, 3), keepdim=True)
        hi = cam.amax(dim=(2, 3), keepdim=True)
        return ((cam - lo) / (hi - lo + 1e-7)).squeeze(1).cpu().numpy(), class_idx.cpu()


def overlay(rgb, heat, alpha=0.45):
    cmap = cv2.applyColorMap(np.uint8(255 * heat), cv2.COLORMAP_JET)[..., ::-1]
    return np.uint8(alpha * cmap + (1 - alpha) * rgb)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("images", nargs="+")
    ap.add_argument("--weights", default="checkpoints/cub_r50.pth")
    ap.add_argument("--classes", default="data/cub_classes.txt")
    ap.add_argument("--out", default="cams")
    args = ap.parse_args()

    names = [l.strip() for l in open(args.classes)]
    net = models.resnet50(num_classes=len(names))
    net.load_state_dict(torch.load(args.weights, map_location="cpu"))
    cam = GradCAM(net, net.layer4[-1])

    prep = transforms.Compose([
        transforms.Resize((448, 448)), transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    os.makedirs(args.out, exist_ok=True)
    for path in args.images:
        img = Image.open(path).convert("RGB").resize((448, 448))
        heat, cls = cam(prep(img).unsqueeze(0))
        vis = overlay(np.asarray(img), heat[0])
        label = names[cls.item()]
        cv2.imwrite(os.path.join(args.out, f"{label}_{os.path.basename(path)}"), vis[..., ::-1])
        print(path, "->", label)
    cam.tap.release()


if __name__ == "__main__":
    main()
