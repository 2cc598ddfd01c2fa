"""Stacked-hourglass human pose training on MPII with periodic heatmap dumps."""
import argparse
import os

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter

from posenet.data import MPIIDataset
from posenet.models import StackedHourglass
from posenet.eval import pckh_at


class JointsMSE(torch.nn.Module):
    def __init__(self, use_target_weight=True):
        super().__init__()
        self.use_target_weight = use_target_weight

    def forward(self, stacks, target, weight):
        loss = 0.0
        for hm in stacks:
            diff = (hm - target) ** 2
            if self.use_target_weight:
                diff = diff * weight[:, :, None, None]
            loss = loss + diff.mean()
        return loss / len(stacks)


def heatmap_overlay(img, hm):
    img = (img.permute(1, 2, 0).cpu().numpy() * 255).clip(0, 255).astype(np.uint8)
    heat = hm.max(0)[0].cpu().numpy()
    heat = cv2.resize(heat, (img.shape[1], img.shape[0]))
    heat = cv2.applyColorMap((heat.clip(0, 1) * 255).astype(np.uint8), cv2.COLORMAP_JET)
    return cv2.addWeighted(img, 0.6, heat, 0.4, 0)


def run_validation(hg, loader, device):
    prev_mode = hg.training
    hg.eval()
    all_pred, all_gt, all_vis = [], [], []
    with torch.no_grad():
        for batch in loader:
            out = hg(batch["image"].to(device))[-1]
            all_pred.append(out.cpu())
            all_gt.append(batch["joints"])
            all_vis.append(batch["visible"])
    hg.train(prev_mode)
    return pckh_at(torch.cat(all_pred), torch.cat(all_gt), torch.cat(all_vis), thr=0.5)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--root", default="data/mpii")
    p.add_argument("--stacks", type=int, default=4)
    p.add_argument("--epochs", type=int, default=140)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=2.5e-4)
    p.add_argument("--vis-every", type=int, default=500)
    p.add_argument("--logdir", default="logs/hg")
    args = p.parse_args()

    device = torch.device("cuda")
    train_set = MPIIDataset(args.root, split="train", augment=True)
    val_set = MPIIDataset(args.root, split="val", augment=False)
    train_loader = DataLoader(train_set, args.batch, shuffle=True, num_workers=8, drop_last=True)
    val_loader = DataLoader(val_set, args.batch, shuffle=False, num_workers=8)

    hg = StackedHourglass(n_stacks=args.stacks, n_joints=16).to(device)
    crit = JointsMSE().to(device)
    optimizer = torch.optim.RMSprop(hg.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, [90, 120], 0.1)
    writer = SummaryWriter(args.logdir)
    vis_batch = next(iter(val_loader))

    step, best = 0, 0.0
    for epoch in range(args.epochs):
        hg.train()
        for batch in train_loader:
            imgs = batch["image"].to(device, non_blocking=True)
            target = batch["heatmap"].to(device, non_blocking=True)
            weight = batch["visible"].float().to(device)

            stacks = hg(imgs)
            loss = crit(stacks, target, weight)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

            if step % 20 == 0:
                writer.add_scalar("train/loss", loss.item(), step)
            if step % args.vis_every == 0:
                hg.eval()  # expect: MG101
                with torch.no_grad():
                    pred_hm = hg(vis_batch["image"][:4].to(device))[-1]
                tiles = [heatmap_overlay(vis_batch["image"][i], pred_hm[i]) for i in range(4)]
                writer.add_image("vis/heatmaps", np.concatenate(tiles, 1), step, dataformats="HWC")
            step += 1

        scheduler.step()
        pck = run_validation(hg, val_loader, device)
        writer.add_scalar("val/PCKh@0.5", pck, epoch)
        torch.save({"epoch": epoch, "state_dict": hg.state_dict()},
                   os.path.join(args.logdir, "last.pth"))
        if pck > best:
            best = pck
            torch.save(hg.state_dict(), os.path.join(args.logdir, "best.pth"))
        print(f"epoch {epoch}: PCKh@0.5={pck:.4f} (best {best:.4f})")


if __name__ == "__main__":
    main()
