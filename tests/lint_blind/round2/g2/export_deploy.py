"""Export a trained YOLO-style detector to TorchScript and ONNX for deployment.

    python export_deploy.py weights/best.pt --img 640 --half
"""
import argparse
from pathlib import Path

import torch
import torch.nn as nn

from yolo_lite.models.common import Conv, Detect
from yolo_lite.models.yolo import DetectionModel


def fuse_conv_bn(model):
    """Fold BatchNorm into the preceding conv for every Conv block (in place)."""
    for m in model.modules():
        if isinstance(m, Conv) and hasattr(m, "bn"):
            conv, bn = m.conv, m.bn
            w = conv.weight.clone().view(conv.out_channels, -1)
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size,
                              conv.stride, conv.padding, groups=conv.groups, bias=True)
            fused.weight.data.copy_((torch.diag(scale) @ w).view_as(fused.weight))
            b = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
            fused.bias.data.copy_((b - bn.running_mean) * scale + bn.bias)
            m.conv = fused
            delattr(m, "bn")
            m.forward = m.forward_fuse
    return model


def parse():
    ap = argparse.ArgumentParser()
    ap.add_argument("weights", type=Path)
    ap.add_argument("--img", type=int, default=640)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--half", action="store_true")
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--no-fuse", action="store_true")
    return ap.parse_args()


def main():
    opt = parse()
    device = torch.device("cuda:0" if opt.half else "cpu")
    ckpt = torch.load(opt.weights, map_location="cpu")
    detector = DetectionModel(ckpt["yaml"], ch=3, nc=ckpt["nc"])
    detector.load_state_dict(ckpt["ema"] or ckpt["model"])
    detector = detector.float().to(device)
    for m in detector.modules():
        if isinstance(m, Detect):
            m.export = True  # return raw grid outputs, no NMS in graph

    example = torch.zeros(opt.batch, 3, opt.img, opt.img, device=device)
    if opt.half:
        detector, example = detector.half(), example.half()

    with torch.no_grad():
        reference = detector(example)  # expect: MG102
        for _ in range(2):
            detector(example)  # warm-up for cudnn autotune

    ts_path = opt.weights.with_suffix(".torchscript")
    traced = torch.jit.trace(detector, example, strict=False)
    traced.save(str(ts_path))
    shapes = [tuple(r.shape) for r in reference]
    print(f"TorchScript saved to {ts_path}; output shapes {shapes}")
    torch.save({"input": example.cpu(), "outputs": [r.cpu() for r in reference]},
               opt.weights.with_name("export_reference.pt"))

    if not opt.no_fuse:
        detector = fuse_conv_bn(detector)
    onnx_path = opt.weights.with_suffix(".onnx")
    torch.onnx.export(detector, example, str(onnx_path), opset_version=opt.opset,
                      input_names=["images"], output_names=["output"],
                      dynamic_axes={"images": {0: "batch"}, "output": {0: "batch"}})
    print(f"ONNX saved to {onnx_path}")


if __name__ == "__main__":
    main()
