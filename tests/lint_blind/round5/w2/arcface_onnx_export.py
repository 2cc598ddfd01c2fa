"""Export an ArcFace-trained IResNet face embedder to ONNX and TorchScript and check parity.

    python arcface_onnx_export.py --weights r50_glint.pth --arch r50 --out export/
"""
import argparse
import os

import numpy as np
import onnx
import onnxruntime as ort
import torch

from facekit.backbones import get_model


def load_embedder(arch, weights, fp16=False):
    net = get_model(arch, fp16=fp16, num_features=512)
    state = torch.load(weights, map_location="cpu")
    state = {k.replace("module.", "", 1): v for k, v in state.items()}
    net.load_state_dict(state, strict=True)
    net.eval()
    return net


def export_onnx(net, path, opset=17, dynamic=True):
    dummy = torch.randn(1, 3, 112, 112)
    axes = {"input.1": {0: "batch"}, "embedding": {0: "batch"}} if dynamic else None
    with torch.no_grad():
        torch.onnx.export(net, dummy, path, input_names=["input.1"], output_names=["embedding"],
                          opset_version=opset, dynamic_axes=axes, do_constant_folding=True)
    model = onnx.load(path)
    onnx.checker.check_model(model)
    return path


def export_torchscript(net, path):
    example = torch.randn(2, 3, 112, 112)
    with torch.no_grad():
        traced = torch.jit.trace(net, example)
    traced = torch.jit.freeze(traced)
    traced.save(path)
    return traced


def parity(net, onnx_path, scripted, n=8, tol=1e-3):
    faces = torch.rand(n, 3, 112, 112) * 2 - 1
    with torch.no_grad():
        ref = net(faces).numpy()
        ts = scripted(faces).numpy()
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    onx = sess.run(["embedding"], {"input.1": faces.numpy()})[0]
    err_onnx = float(np.abs(ref - onx).max())
    err_ts = float(np.abs(ref - ts).max())
    print(f"max |torch - onnx| = {err_onnx:.2e}, max |torch - torchscript| = {err_ts:.2e}")
    if max(err_onnx, err_ts) > tol:
        raise SystemExit("exported model does not match the PyTorch reference")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--arch", default="r50")
    ap.add_argument("--out", default="export")
    ap.add_argument("--opset", type=int, default=17)
    args = ap.parse_args()

    os.makedirs(args.out, exist_ok=True)
    net = load_embedder(args.arch, args.weights)
    onnx_path = export_onnx(net, os.path.join(args.out, f"{args.arch}.onnx"), args.opset)
    scripted = export_torchscript(net, os.path.join(args.out, f"{args.arch}.torchscript.pt"))
    parity(net, onnx_path, scripted)
    print("exported to", args.out)


if __name__ == "__main__":
    main()
