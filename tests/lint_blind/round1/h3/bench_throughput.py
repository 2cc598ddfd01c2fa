#!/usr/bin/env python
"""Measure inference latency and training throughput for a list of timm models.

    python bench_throughput.py resnet50 convnext_tiny vit_small_patch16_224 --bs 64 --train
"""
import argparse
import statistics
import time

import pandas as pd
import timm
import torch
import torch.nn.functional as F


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench_inference(net, bs, size, device, iters=50, warmup=10, amp=True):
    net.eval()
    x = torch.randn(bs, 3, size, size, device=device)
    timings = []
    with torch.inference_mode(), torch.autocast(device.type, enabled=amp):
        for _ in range(warmup):
            net(x)
        sync(device)
        for _ in range(iters):
            t0 = time.perf_counter()
            net(x)
            sync(device)
            timings.append(time.perf_counter() - t0)
    med = statistics.median(timings)
    return {"infer_ms": 1e3 * med, "infer_img_s": bs / med}


def bench_training(net, bs, size, n_cls, device, iters=30, warmup=5, amp=True):
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=1e-3, momentum=0.9)
    scaler = torch.cuda.amp.GradScaler(enabled=amp and device.type == "cuda")
    x = torch.randn(bs, 3, size, size, device=device)
    y = torch.randint(0, n_cls, (bs,), device=device)
    for i in range(warmup + iters):
        if i == warmup:
            sync(device)
            start = time.perf_counter()
        with torch.autocast(device.type, enabled=amp):
            loss = F.cross_entropy(net(x), y)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
    sync(device)
    elapsed = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else float("nan")
    return {"train_img_s": bs * iters / elapsed, "train_peak_gib": peak}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="+")
    ap.add_argument("--bs", type=int, default=64)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--train", action="store_true", help="also time a training step")
    ap.add_argument("--no-amp", action="store_true")
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--csv", default="bench.csv")
    args = ap.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cudnn.benchmark = True
    rows = []
    for name in args.models:
        net = timm.create_model(name, pretrained=False, num_classes=1000).to(device)
        if args.channels_last:
            net = net.to(memory_format=torch.channels_last)
        n_params = sum(p.numel() for p in net.parameters()) / 1e6
        row = {"model": name, "params_m": round(n_params, 2)}
        row.update(bench_inference(net, args.bs, args.size, device, amp=not args.no_amp))
        if args.train:
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
            row.update(bench_training(net, args.bs, args.size, 1000, device, amp=not args.no_amp))
        rows.append(row)
        print(row)
        del net
        if device.type == "cuda":
            torch.cuda.empty_cache()

    df = pd.DataFrame(rows).set_index("model")
    print(df.round(2).to_string())
    df.to_csv(args.csv)


if __name__ == "__main__":
    main()
