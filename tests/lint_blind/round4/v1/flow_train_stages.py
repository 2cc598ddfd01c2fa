"""Staged optical-flow training (chairs -> things -> sintel) for a recurrent flow network.

After the first stage the feature/context encoders keep their BatchNorm statistics
fixed; the freeze is re-applied whenever the network returns to training mode.
"""
import argparse
import os

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

from flownet.core import RecurrentFlowNet
from flownet import datasets
from flownet.utils import InputPadder, sequence_loss

VAL_FREQ = 5000


@torch.no_grad()
def validate_sintel(net, iters=32):
    net.eval()
    results = {}
    for dstype in ["clean", "final"]:
        ds = datasets.MpiSintel(split="training", dstype=dstype)
        epe_list = []
        for i in range(len(ds)):
            im1, im2, flow_gt, _ = ds[i]
            im1, im2 = im1[None].cuda(), im2[None].cuda()
            padder = InputPadder(im1.shape)
            im1, im2 = padder.pad(im1, im2)
            _, flow_up = net(im1, im2, iters=iters, test_mode=True)
            flow = padder.unpad(flow_up[0]).cpu()
            epe_list.append(torch.sum((flow - flow_gt) ** 2, dim=0).sqrt().view(-1).numpy())
        results[dstype] = float(np.mean(np.concatenate(epe_list)))
        print("Sintel (%s) EPE: %.3f" % (dstype, results[dstype]))
    return results


def fetch_optimizer(args, net):
    opt = optim.AdamW(net.parameters(), lr=args.lr, weight_decay=args.wdecay, eps=1e-8)
    sched = optim.lr_scheduler.OneCycleLR(opt, args.lr, args.num_steps + 100, pct_start=0.05,
                                          cycle_momentum=False, anneal_strategy="linear")
    return opt, sched


def train(args):
    model = nn.DataParallel(RecurrentFlowNet(dropout=args.dropout), device_ids=args.gpus)
    if args.restore_ckpt is not None:
        model.load_state_dict(torch.load(args.restore_ckpt), strict=False)
    model.cuda()
    model.train()
    if args.stage != "chairs":
        model.module.freeze_bn()

    loader = datasets.fetch_dataloader(args)
    optimizer, scheduler = fetch_optimizer(args, model)
    scaler = torch.cuda.amp.GradScaler(enabled=args.mixed_precision)

    total_steps = 0
    while total_steps < args.num_steps:
        for data_blob in loader:
            optimizer.zero_grad()
            im1, im2, flow, valid = [x.cuda() for x in data_blob]
            if args.add_noise:
                stdv = np.random.uniform(0.0, 5.0)
                im1 = (im1 + stdv * torch.randn(*im1.shape).cuda()).clamp(0.0, 255.0)
                im2 = (im2 + stdv * torch.randn(*im2.shape).cuda()).clamp(0.0, 255.0)

            with torch.cuda.amp.autocast(enabled=args.mixed_precision):
                preds = model(im1, im2, iters=args.iters)
            loss, metrics = sequence_loss(preds, flow, valid, args.gamma)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            scaler.step(optimizer)
            scheduler.step()
            scaler.update()
            total_steps += 1

            if total_steps % VAL_FREQ == VAL_FREQ - 1:
                path = os.path.join("checkpoints", "%d_%s.pth" % (total_steps + 1, args.name))
                torch.save(model.state_dict(), path)
                if "sintel" in args.validation:
                    validate_sintel(model.module)
                model.train()
                if args.stage != "chairs":
                    model.module.freeze_bn()

            if total_steps >= args.num_steps:
                break

    torch.save(model.state_dict(), os.path.join("checkpoints", "%s.pth" % args.name))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--name", default="flow")
    p.add_argument("--stage", default="chairs")
    p.add_argument("--restore_ckpt")
    p.add_argument("--validation", nargs="+", default=[])
    p.add_argument("--lr", type=float, default=4e-4)
    p.add_argument("--num_steps", type=int, default=100000)
    p.add_argument("--iters", type=int, default=12)
    p.add_argument("--wdecay", type=float, default=1e-4)
    p.add_argument("--gamma", type=float, default=0.8)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--gpus", type=int, nargs="+", default=[0, 1])
    p.add_argument("--mixed_precision", action="store_true")
    p.add_argument("--add_noise", action="store_true")
    train(p.parse_args())
