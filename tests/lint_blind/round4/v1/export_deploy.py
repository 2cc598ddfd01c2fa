#!/usr/bin/env python3
"""Export a trained segmentation network to ONNX and TorchScript and check both against
the eager model on random input."""
import argparse
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch

from segzoo import create_segmenter


def parse():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--arch", default="unet_r34")
    p.add_argument("--num-classes", type=int, default=4)
    p.add_argument("--weights", type=Path, required=True)
    p.add_argument("--height", type=int, default=512)
    p.add_argument("--width", type=int, default=512)
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--dynamic", action="store_true", help="dynamic batch/height/width axes")
    p.add_argument("--outdir", type=Path, default=Path("export"))
    p.add_argument("--atol", type=float, default=1e-3)
    return p.parse_args()


def load_weights(arch, n_cls, path):
    net = create_segmenter(arch, num_classes=n_cls, encoder_weights=None)
    blob = torch.load(path, map_location="cpu")
    if "ema" in blob:
        blob = blob["ema"]
    elif "state_dict" in blob:
        blob = blob["state_dict"]
    net.load_state_dict({k.removeprefix("module."): v for k, v in blob.items()})
    return net


def to_onnx(net, dummy, path, opset, dynamic):
    axes = None
    if dynamic:
        axes = {"image": {0: "batch", 2: "height", 3: "width"},
                "logits": {0: "batch", 2: "height", 3: "width"}}
    torch.onnx.export(net, dummy, str(path), input_names=["image"], output_names=["logits"],
                      opset_version=opset, dynamic_axes=axes, do_constant_folding=True)
    onnx.checker.check_model(onnx.load(str(path)))


def to_torchscript(net, dummy, path):
    with torch.no_grad():
        traced = torch.jit.trace(net, dummy, strict=False)
        traced = torch.jit.freeze(traced)
    traced.save(str(path))
    return traced


def main():
    args = parse()
    args.outdir.mkdir(parents=True, exist_ok=True)
    net = load_weights(args.arch, args.num_classes, args.weights)
    net = net.eval()

    dummy = torch.randn(1, 3, args.height, args.width)
    onnx_path = args.outdir / f"{args.arch}.onnx"
    ts_path = args.outdir / f"{args.arch}.ts"

    to_onnx(net, dummy, onnx_path, args.opset, args.dynamic)
    scripted = to_torchscript(net, dummy, ts_path)

    probe = torch.randn(2 if args.dynamic else 1, 3, args.height, args.width)
    with torch.inference_mode():
        ref = net(probe).numpy()
        ts_out = scripted(probe).numpy()

    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    onnx_out = sess.run(["logits"], {"image": probe.numpy()})[0]

    for name, out in (("onnx", onnx_out), ("torchscript", ts_out)):
        err = float(np.abs(out - ref).max())
        status = "OK" if err <= args.atol else "MISMATCH"
        print(f"{name:12s} max|diff| = {err:.2e}  [{status}]")
    print("saved", onnx_path, "and", ts_path)


if __name__ == "__main__":
    main()
