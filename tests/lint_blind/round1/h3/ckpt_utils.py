"""Checkpoint loading, averaging and export utilities, plus a small predict CLI."""
import argparse
import glob
import os
from collections import OrderedDict

import torch
from PIL import Image
from torchvision import transforms

from project.models import create_model


def strip_prefix(state, prefixes=("module.", "_orig_mod.")):
    fixed = OrderedDict()
    for key, value in state.items():
        for pre in prefixes:
            if key.startswith(pre):
                key = key[len(pre):]
        fixed[key] = value
    return fixed


def load_inference_model(ckpt_path, arch=None, device="cpu", use_ema=True):
    """Build the network recorded in `ckpt_path`, ready for prediction."""
    blob = torch.load(ckpt_path, map_location="cpu", weights_only=False)
    arch = arch or blob["arch"]
    net = create_model(arch, **blob.get("model_kwargs", {}))
    key = "ema" if use_ema and "ema" in blob else "model"
    net.load_state_dict(strip_prefix(blob[key]))
    net.to(device)
    net.eval()
    return net


def load_teacher(ckpt_path, device="cuda"):
    teacher = load_inference_model(ckpt_path, device=device)
    teacher.requires_grad_(False)
    return teacher


def load_for_resume(ckpt_path, device, lr=None):
    blob = torch.load(ckpt_path, map_location="cpu", weights_only=False)
    net = create_model(blob["arch"], **blob.get("model_kwargs", {}))
    net.load_state_dict(strip_prefix(blob["model"]))
    net.to(device).train()
    opt = torch.optim.AdamW(net.parameters(), lr=lr or blob["lr"])
    if "optimizer" in blob:
        opt.load_state_dict(blob["optimizer"])
    return net, opt, blob.get("epoch", 0) + 1


def average_checkpoints(paths):
    avg = None
    for p in paths:
        state = strip_prefix(torch.load(p, map_location="cpu")["model"])
        if avg is None:
            avg = {k: v.clone().double() if v.is_floating_point() else v.clone() for k, v in state.items()}
        else:
            for k, v in state.items():
                if v.is_floating_point():
                    avg[k] += v.double()
    for k, v in avg.items():
        if v.is_floating_point():
            avg[k] = (v / len(paths)).float()
    return avg


def export_onnx(net, out_path, image_size=224, opset=17):
    net.eval()
    dummy = torch.randn(1, 3, image_size, image_size)
    torch.onnx.export(net.cpu(), dummy, out_path, opset_version=opset,
                      input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})


@torch.inference_mode()
def predict_folder(net, folder, tfm, device, batch_size=64, topk=3):
    files = sorted(glob.glob(os.path.join(folder, "*.jpg")) + glob.glob(os.path.join(folder, "*.png")))
    results = []
    for start in range(0, len(files), batch_size):
        chunk = files[start:start + batch_size]
        batch = torch.stack([tfm(Image.open(f).convert("RGB")) for f in chunk]).to(device)
        probs = net(batch).softmax(dim=-1)
        conf, idx = probs.topk(topk, dim=-1)
        for f, c, i in zip(chunk, conf.tolist(), idx.tolist()):
            results.append((os.path.basename(f), list(zip(i, c))))
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ckpt")
    ap.add_argument("folder")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--onnx", default=None)
    ap.add_argument("--average", nargs="*", default=None)
    args = ap.parse_args()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    net = load_inference_model(args.ckpt, device=device)
    if args.average:
        net.load_state_dict(average_checkpoints([args.ckpt] + args.average))
    tfm = transforms.Compose([
        transforms.Resize(int(args.size * 1.14)),
        transforms.CenterCrop(args.size),
        transforms.ToTensor(),
        transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    ])
    for name, top in predict_folder(net, args.folder, tfm, device):
        print(name, " ".join(f"{cls}:{p:.3f}" for cls, p in top))
    if args.onnx:
        export_onnx(net, args.onnx, args.size)


if __name__ == "__main__":
    main()
