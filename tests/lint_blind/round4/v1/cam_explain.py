"""Grad-CAM and vanilla-gradient saliency maps for a fine-tuned classifier.

usage: python cam_explain.py --ckpt best.pth --images samples/*.png --layer layer4
"""
import argparse
import os

import cv2
import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from PIL import Image
from torchvision import transforms

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


class GradCAM:
    def __init__(self, net, target_layer):
        self.net = net
        self.activations = None
        self.gradients = None
        layer = dict(net.named_modules())[target_layer]
        self._handles = [
            layer.register_forward_hook(self._save_act),
            layer.register_full_backward_hook(self._save_grad),
        ]

    def _save_act(self, module, inp, out):
        self.activations = out.detach()

    def _save_grad(self, module, grad_in, grad_out):
        self.gradients = grad_out[0].detach()

    def __call__(self, x, class_idx=None):
        self.net.zero_grad(set_to_none=True)
        logits = self.net(x)
        if class_idx is None:
            class_idx = int(logits.argmax(1))
        logits[0, class_idx].backward()
        weights = self.gradients.mean(dim=(2, 3), keepdim=True)
        cam = F.relu((weights * self.activations).sum(1, keepdim=True))
        cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)
        cam = (cam - cam.min()) / (cam.max() - cam.min() + 1e-8)
        return cam[0, 0].cpu().numpy(), class_idx

    def remove(self):
        for h in self._handles:
            h.remove()


def vanilla_saliency(net, x, class_idx):
    x = x.clone().requires_grad_(True)
    score = net(x)[0, class_idx]
    score.backward()
    return x.grad.abs().amax(dim=1)[0].cpu().numpy()


def overlay(rgb, cam):
    heat = cv2.applyColorMap(np.uint8(255 * cam), cv2.COLORMAP_JET)[:, :, ::-1]
    return np.uint8(0.55 * rgb + 0.45 * heat)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--images", nargs="+", required=True)
    ap.add_argument("--layer", default="layer4")
    ap.add_argument("--classes", type=int, default=7)
    ap.add_argument("--out", default="cams")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    net = torchvision.models.resnet50(num_classes=args.classes)
    net.load_state_dict(torch.load(args.ckpt, map_location="cpu"))
    net.eval()
    cam_fn = GradCAM(net, args.layer)

    prep = transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor(),
                               transforms.Normalize(MEAN, STD)])
    for path in args.images:
        img = Image.open(path).convert("RGB")
        x = prep(img).unsqueeze(0)
        cam, cls = cam_fn(x)
        sal = vanilla_saliency(net, x, cls)
        sal = (sal - sal.min()) / (sal.max() - sal.min() + 1e-8)
        rgb = np.asarray(img.resize((224, 224)), dtype=np.float32)
        stem = os.path.splitext(os.path.basename(path))[0]
        Image.fromarray(overlay(rgb, cam)).save(os.path.join(args.out, f"{stem}_cam{cls}.png"))
        Image.fromarray(np.uint8(255 * sal)).save(os.path.join(args.out, f"{stem}_sal.png"))
    cam_fn.remove()


if __name__ == "__main__":
    main()
