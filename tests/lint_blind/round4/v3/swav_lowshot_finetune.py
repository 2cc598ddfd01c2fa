"""Semi-supervised fine-tuning of a SwAV ResNet-50 on 1% / 10% ImageNet labels.

Batch statistics from 1% of ImageNet are poor, so BN running statistics of the
pretrained trunk are kept fixed; only the affine parameters are tuned.
"""
import argparse
import time

import torch
import torch.nn as nn
import torch.distributed as dist
from torchvision import models

from lowshot_data import subset_loaders
from meters import AverageMeter, accuracy


def keep_bn_stats_fixed(net):
    n = 0
    for m in net.modules():
        if isinstance(m, (nn.BatchNorm2d, nn.SyncBatchNorm)):
            m.eval()  # expect: MG301
            n += 1
    return n


def build(ckpt_path, num_classes=1000):
    net = models.resnet50()
    state = torch.load(ckpt_path, map_location="cpu")
    state = {k.replace("module.", ""): v for k, v in state.items() if "projection" not in k and "prototypes" not in k}
    net.load_state_dict(state, strict=False)
    net.fc = nn.Linear(2048, num_classes)
    nn.init.normal_(net.fc.weight, std=0.01)
    nn.init.zeros_(net.fc.bias)
    return net


@torch.no_grad()
def validate(net, loader):
    top1 = AverageMeter()
    net.eval()
    for x, y in loader:
        x, y = x.cuda(non_blocking=True), y.cuda(non_blocking=True)
        top1.update(accuracy(net(x), y)[0].item(), x.size(0))
    return top1.avg


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pretrained", required=True)
    ap.add_argument("--labels-perc", choices=["1", "10"], default="1")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--lr-trunk", type=float, default=0.01)
    ap.add_argument("--lr-head", type=float, default=0.2)
    args = ap.parse_args()

    dist.init_process_group("nccl")
    torch.cuda.set_device(dist.get_rank() % torch.cuda.device_count())
    train_loader, val_loader = subset_loaders(args.labels_perc, batch_size=32)

    net = build(args.pretrained).cuda()
    n_bn = keep_bn_stats_fixed(net)
    print(f"fixed running statistics of {n_bn} BN layers")
    net = nn.parallel.DistributedDataParallel(net, device_ids=[torch.cuda.current_device()])

    trunk = [p for n, p in net.named_parameters() if "fc." not in n]
    head = [p for n, p in net.named_parameters() if "fc." in n]
    opt = torch.optim.SGD([{"params": trunk, "lr": args.lr_trunk}, {"params": head, "lr": args.lr_head}],
                          momentum=0.9, weight_decay=0)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [12, 16], gamma=0.2)
    crit = nn.CrossEntropyLoss().cuda()

    best = 0.0
    for epoch in range(args.epochs):
        train_loader.sampler.set_epoch(epoch)
        net.train()
        end = time.time()
        for it, (x, y) in enumerate(train_loader):
            loss = crit(net(x.cuda(non_blocking=True)), y.cuda(non_blocking=True))
            opt.zero_grad()
            loss.backward()
            opt.step()
            if it % 50 == 0 and dist.get_rank() == 0:
                print(f"ep {epoch} it {it} loss {loss.item():.3f} {time.time() - end:.1f}s")
        sched.step()
        acc = validate(net, val_loader)
        best = max(best, acc)
        if dist.get_rank() == 0:
            print(f"epoch {epoch} top1 {acc:.2f} (best {best:.2f})")
            torch.save(net.module.state_dict(), "swav_lowshot.pth")


if __name__ == "__main__":
    main()
