"""python train.py --root data/modelnet40_normal_resampled --epochs 200"""
import argparse
import logging

import torch
import torch.nn.functional as F

from dataset import ModelNetDataset
from model import PointNetCls, orthogonality_penalty
from utils import AverageMeter, evaluate, save_ckpt

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
log = logging.getLogger("pointcls")


def get_args():
    p = argparse.ArgumentParser()
    p.add_argument("--root", required=True)
    p.add_argument("--npoints", type=int, default=1024)
    p.add_argument("--batch_size", type=int, default=32)
    p.add_argument("--epochs", type=int, default=200)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--feature_transform", action="store_true")
    p.add_argument("--eval_every", type=int, default=250, help="iterations between test-set evaluations")
    p.add_argument("--out", default="log/pointnet_cls")
    return p.parse_args()


def main():
    args = get_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_set = ModelNetDataset(args.root, split="train", npoints=args.npoints, augment=True)
    test_set = ModelNetDataset(args.root, split="test", npoints=args.npoints, augment=False)
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                                               num_workers=4, drop_last=True)
    test_loader = torch.utils.data.DataLoader(test_set, batch_size=args.batch_size, num_workers=4)

    model = PointNetCls(num_classes=40, feature_transform=args.feature_transform).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.999), weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=20, gamma=0.7)

    best_oa, it = 0.0, 0
    for epoch in range(args.epochs):
        model.train()
        meter = AverageMeter()
        for points, target in train_loader:
            points = points.transpose(2, 1).to(device)
            target = target.view(-1).to(device)
            optimizer.zero_grad()
            logp, trans_feat = model(points)
            loss = F.nll_loss(logp, target)
            if args.feature_transform:
                loss = loss + 1e-3 * orthogonality_penalty(trans_feat)
            loss.backward()
            optimizer.step()
            meter.update(loss.item(), target.size(0))
            it += 1

            if it % args.eval_every == 0:
                stats = evaluate(model, test_loader, device)
                log.info("it %d: test OA %.4f mAcc %.4f", it, stats["oa"], stats["macc"])
                if stats["oa"] > best_oa:
                    best_oa = stats["oa"]
                    save_ckpt({"model": model.state_dict(), "epoch": epoch, "oa": best_oa}, args.out, "best.pth")
        scheduler.step()
        log.info("epoch %d: train loss %.4f", epoch, meter.avg)

    log.info("best test OA %.4f", best_oa)


if __name__ == "__main__":
    main()
