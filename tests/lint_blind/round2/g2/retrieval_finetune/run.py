"""Fine-tune a retrieval network on SfM-120k tuples and track rOxford/rParis mAP."""
import argparse

import torch

from retrieval_finetune.backbone import RetrievalNet
from retrieval_finetune.trainer import TupleTrainer
from retrieval_finetune.extract import evaluate_retrieval
from retrieval_finetune.datasets import TuplesDataset, ImageListLoader, load_gnd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="resnet101")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--lr", type=float, default=1e-6)
    ap.add_argument("--test-sets", default="roxford5k,rparis6k")
    ap.add_argument("--data", default="/data/retrieval")
    args = ap.parse_args()
    device = torch.device("cuda")

    net = RetrievalNet(args.arch, frozen_bn=True).to(device)
    opt = torch.optim.Adam([
        {"params": net.features.parameters()},
        {"params": net.pool.parameters(), "lr": args.lr * 10, "weight_decay": 0},
        {"params": net.whiten.parameters()},
    ], lr=args.lr, weight_decay=1e-6)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.99)
    tuples = TuplesDataset(args.data, "sfm120k", n_neg=5, query_size=2000, pool_size=20000)
    trainer = TupleTrainer(net, opt, tuples, device)

    for ep in range(args.epochs):
        trainer.epoch(ep)
        sched.step()
        if (ep + 1) % 5 == 0:
            for name in args.test_sets.split(","):
                db_loader, q_loader = ImageListLoader(args.data, name, imsize=1024)
                m = evaluate_retrieval(net, db_loader, q_loader, load_gnd(args.data, name), device)
                print(f"epoch {ep + 1} {name}: mAP M {m['medium']:.2f} H {m['hard']:.2f}")
            torch.save(net.state_dict(), f"retrieval_{args.arch}_ep{ep + 1}.pth")


if __name__ == "__main__":
    main()
