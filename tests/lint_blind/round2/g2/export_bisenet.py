"""Export a BiSeNetV2 road-scene segmenter to TorchScript + ONNX and check parity.

Example:
    python export_bisenet.py --weights ckpt/bisenetv2_city.pth --height 512 --width 1024
"""
import argparse
import os

import numpy as np
import onnxruntime as ort
import torch

from lanes.models.bisenetv2 import BiSeNetV2


class ArgmaxWrapper(torch.nn.Module):
    """Deploy-time head: return the label map instead of the logits."""

    def __init__(self, seg):
        super().__init__()
        self.seg = seg

    def forward(self, x):
        return self.seg(x)[0].argmax(dim=1).to(torch.int32)


def load(weights, n_classes):
    net = BiSeNetV2(n_classes, aux_mode="pred")
    state = torch.load(weights, map_location="cpu")
    net.load_state_dict(state, strict=False)
    net.eval()
    return net


def check_onnx(path, dummy, expected):
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = sess.run(None, {sess.get_inputs()[0].name: dummy.numpy()})[0]
    agree = (got == expected.numpy()).mean()
    print(f"onnxruntime pixel agreement: {agree * 100:.3f}%")
    return agree


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--n-classes", type=int, default=19)
    ap.add_argument("--height", type=int, default=512)
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--outdir", default="export")
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)

    deploy = ArgmaxWrapper(load(args.weights, args.n_classes)).eval()
    dummy = torch.randn(1, 3, args.height, args.width)

    with torch.inference_mode():
        expected = deploy(dummy)

    with torch.no_grad():
        scripted = torch.jit.trace(deploy, dummy)
        scripted = torch.jit.freeze(scripted)
        assert torch.equal(scripted(dummy), expected), "TorchScript output differs"
    scripted.save(os.path.join(args.outdir, "bisenetv2.pt"))

    onnx_path = os.path.join(args.outdir, "bisenetv2.onnx")
    torch.onnx.export(deploy, dummy, onnx_path, opset_version=17, do_constant_folding=True,
                      input_names=["image"], output_names=["labels"])
    if check_onnx(onnx_path, dummy, expected) < 0.999:
        raise SystemExit("ONNX export disagrees with PyTorch, not publishing")
    np.save(os.path.join(args.outdir, "reference_labels.npy"), expected.numpy())


if __name__ == "__main__":
    main()
