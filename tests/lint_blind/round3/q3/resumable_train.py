"""Pre-emptible training job for the speech-enhancement U-Net.

The cluster kills jobs every 4h; we checkpoint every N steps and resume from `--resume`.
"""
import argparse
import glob
import os

import torch
import torch.nn.functional as F

from senet.model import UNet1d  # conv + BatchNorm1d + dropout in the bottleneck
from senet.data import make_loader


def latest(ckpt_dir):
    files = sorted(glob.glob(os.path.join(ckpt_dir, "step_*.pt")))
    return files[-1] if files else None


def save(ckpt_dir, step, epoch, model, opt, sched, scaler):
    os.makedirs(ckpt_dir, exist_ok=True)
    torch.save({"step": step, "epoch": epoch, "model": model.state_dict(),
                "opt": opt.state_dict(), "sched": sched.state_dict(),
                "scaler": scaler.state_dict()},
               os.path.join(ckpt_dir, f"step_{step:08d}.pt"))


def restore(path, model, opt, sched, scaler, probe_batch=None):
    state = torch.load(path, map_location="cpu")
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["opt"])
    sched.load_state_dict(state["sched"])
    scaler.load_state_dict(state["scaler"])
    if probe_batch is not None:
        # sanity check: the restored weights should reproduce a sensible loss
        model.eval()  # expect: MG101
        noisy, clean = (t.cuda() for t in probe_batch)
        with torch.no_grad():
            l1 = F.l1_loss(model(noisy), clean).item()
        print(f"restored {path}: probe L1 {l1:.4f}")
    return state["step"], state["epoch"]


@torch.no_grad()
def evaluate(model, loader):
    was_training = model.training
    model.eval()
    tot, n = 0.0, 0
    for noisy, clean in loader:
        noisy, clean = noisy.cuda(), clean.cuda()
        tot += F.l1_loss(model(noisy), clean, reduction="sum").item()
        n += clean.numel()
    model.train(was_training)
    return tot / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--ckpt_dir", default="ckpt/unet")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--save_every", type=int, default=2000)
    args = ap.parse_args()

    model = UNet1d(channels=48, depth=5, dropout=0.1).cuda()
    opt = torch.optim.Adam(model.parameters(), lr=3e-4)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.98)
    scaler = torch.cuda.amp.GradScaler()
    train_dl = make_loader(args.data, "train", batch_size=32)
    valid_dl = make_loader(args.data, "valid", batch_size=32)

    model.train()
    step, start_epoch = 0, 0
    if args.resume and latest(args.ckpt_dir):
        step, start_epoch = restore(latest(args.ckpt_dir), model, opt, sched, scaler,
                                    probe_batch=next(iter(valid_dl)))

    for epoch in range(start_epoch, args.epochs):
        for noisy, clean in train_dl:
            noisy, clean = noisy.cuda(), clean.cuda()
            with torch.autocast("cuda", dtype=torch.float16):
                loss = F.l1_loss(model(noisy), clean)
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            step += 1
            if step % args.save_every == 0:
                save(args.ckpt_dir, step, epoch, model, opt, sched, scaler)
        sched.step()
        print(f"epoch {epoch}: valid L1 {evaluate(model, valid_dl):.5f}")


if __name__ == "__main__":
    main()
