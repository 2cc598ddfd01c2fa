"""torchrun --nproc_per_node 4 run.py --teacher-ckpt r50_c100.pth

Distil a ResNet-50 teacher into a small residual student with DDP; rank 0 checks the
student's top-1 every ``--eval-every`` iterations (mid-epoch) and at the end.
"""
import argparse
import os

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler

from cifar import cifar100_splits
from engine import reduce_mean, top1, train_step
from nets import Distiller, SmallResStudent, resnet50_teacher


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--teacher-ckpt", required=True)
    ap.add_argument("--epochs", type=int, default=240)
    ap.add_argument("--bs", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--out", default="kd_out")
    args = ap.parse_args()

    os.makedirs(args.out, exist_ok=True)
    dist.init_process_group("nccl")
    rank = dist.get_rank()
    local_rank = int(os.environ["LOCAL_RANK"])
    torch.cuda.set_device(local_rank)
    device = torch.device("cuda", local_rank)

    train_set, test_set = cifar100_splits("data/cifar100")
    sampler = DistributedSampler(train_set)
    train_loader = DataLoader(train_set, args.bs, sampler=sampler, num_workers=4, drop_last=True)
    test_loader = DataLoader(test_set, 256, shuffle=False, num_workers=4)

    distiller = Distiller(SmallResStudent(), resnet50_teacher(ckpt=args.teacher_ckpt))
    distiller = torch.nn.SyncBatchNorm.convert_sync_batchnorm(distiller).to(device)
    model = DDP(distiller, device_ids=[local_rank])
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=args.lr, momentum=0.9, weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, [150, 180, 210], 0.1)
    scaler = torch.cuda.amp.GradScaler()

    best, step = 0.0, 0
    model.train()
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        for batch in train_loader:
            loss = train_step(model, batch, optimizer, scaler, device)
            step += 1
            if step % 100 == 0:
                loss = reduce_mean(loss)
                if rank == 0:
                    print(f"ep {epoch} step {step} kd-loss {loss.item():.4f}")
            if step % args.eval_every == 0 and rank == 0:
                acc = top1(model.module.student, test_loader, device)
                print(f"step {step}: student top-1 {acc:.4f}")
                if acc > best:
                    best = acc
                    torch.save(model.module.student.state_dict(),
                               os.path.join(args.out, "student_best.pth"))
        scheduler.step()

    if rank == 0:
        print("final student top-1:", top1(model.module.student, test_loader, device),
              "best:", best)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
