"""DGCNN part segmentation on ShapeNetPart with rotation-voting at test time."""
import argparse
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from shapenet_part import ShapeNetPart, SEG_CLASSES, mean_instance_iou


def knn_feature(x, k):
    inner = -2 * torch.matmul(x.transpose(2, 1), x)
    xx = (x ** 2).sum(1, keepdim=True)
    idx = (-xx - inner - xx.transpose(2, 1)).topk(k=k, dim=-1)[1]  # B, N, k
    B, C, N = x.shape
    base = torch.arange(B, device=x.device).view(-1, 1, 1) * N
    nbrs = x.transpose(2, 1).reshape(B * N, C)[(idx + base).view(-1)].view(B, N, k, C)
    center = x.transpose(2, 1).unsqueeze(2).expand(-1, -1, k, -1)
    return torch.cat([nbrs - center, center], dim=3).permute(0, 3, 1, 2)


def edge_conv(cin, cout):
    return nn.Sequential(nn.Conv2d(cin * 2, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2))


class DGCNNPartSeg(nn.Module):
    def __init__(self, num_parts=50, num_shapes=16, k=40, emb=1024, dropout=0.5):
        super().__init__()
        self.k = k
        self.ec1, self.ec2, self.ec3 = edge_conv(3, 64), edge_conv(64, 64), edge_conv(64, 64)
        self.global_conv = nn.Sequential(nn.Conv1d(192, emb, 1, bias=False), nn.BatchNorm1d(emb), nn.LeakyReLU(0.2))
        self.label_conv = nn.Sequential(nn.Conv1d(num_shapes, 64, 1, bias=False), nn.BatchNorm1d(64), nn.LeakyReLU(0.2))
        self.head = nn.Sequential(
            nn.Conv1d(emb + 64 + 192, 256, 1, bias=False), nn.BatchNorm1d(256), nn.LeakyReLU(0.2), nn.Dropout(dropout),
            nn.Conv1d(256, 256, 1, bias=False), nn.BatchNorm1d(256), nn.LeakyReLU(0.2), nn.Dropout(dropout),
            nn.Conv1d(256, 128, 1, bias=False), nn.BatchNorm1d(128), nn.LeakyReLU(0.2),
            nn.Conv1d(128, num_parts, 1))

    def forward(self, pts, shape_onehot):
        N = pts.shape[2]
        x1 = self.ec1(knn_feature(pts, self.k)).max(-1)[0]
        x2 = self.ec2(knn_feature(x1, self.k)).max(-1)[0]
        x3 = self.ec3(knn_feature(x2, self.k)).max(-1)[0]
        local = torch.cat([x1, x2, x3], 1)
        g = self.global_conv(local).max(-1, keepdim=True)[0]
        lbl = self.label_conv(shape_onehot.unsqueeze(-1))
        feat = torch.cat([g, lbl], 1).expand(-1, -1, N)
        return self.head(torch.cat([feat, local], 1))


def set_bn_momentum(model, momentum):
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.momentum = momentum


def rotate_z(pts, angle):
    c, s = math.cos(angle), math.sin(angle)
    rot = pts.new_tensor([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    return rot @ pts


@torch.no_grad()
def quick_val(net, loader, max_batches=20):
    net.eval()
    ious = []
    for b, (pts, onehot, seg) in enumerate(loader):
        if b == max_batches:
            break
        logits = net(pts.cuda(), onehot.cuda())
        ious.extend(mean_instance_iou(logits.argmax(1).cpu(), seg, onehot.argmax(1)))
    return float(np.mean(ious))


@torch.inference_mode()
def vote_test(net, loader, n_votes=12):
    net.eval()
    ious = []
    for pts, onehot, seg in loader:
        pts, onehot = pts.cuda(), onehot.cuda()
        acc = 0
        for v in range(n_votes):
            acc = acc + F.softmax(net(rotate_z(pts, 2 * math.pi * v / n_votes), onehot), dim=1)
        ious.extend(mean_instance_iou(acc.argmax(1).cpu(), seg, onehot.argmax(1)))
    return float(np.mean(ious))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--bs", type=int, default=32)
    ap.add_argument("--val_every", type=int, default=300)
    args = ap.parse_args()

    train_loader = torch.utils.data.DataLoader(ShapeNetPart(args.root, "trainval"), batch_size=args.bs,
                                               shuffle=True, drop_last=True, num_workers=8)
    val_loader = torch.utils.data.DataLoader(ShapeNetPart(args.root, "test"), batch_size=16, num_workers=4)
    net = DGCNNPartSeg(num_parts=len(SEG_CLASSES)).cuda()
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.epochs, eta_min=1e-3)

    step = 0
    for epoch in range(args.epochs):
        # PointNet++-style BN momentum decay: 0.1 -> 0.01
        set_bn_momentum(net, max(0.1 * 0.5 ** (epoch // 20), 0.01))
        for pts, onehot, seg in train_loader:
            net.train()
            logits = net(pts.cuda(), onehot.cuda())
            loss = F.cross_entropy(logits, seg.cuda(), label_smoothing=0.2)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step % args.val_every == 0:
                print(f"step {step} loss {loss.item():.3f} val mIoU {quick_val(net, val_loader):.4f}")
        sched.step()

    torch.save(net.state_dict(), "dgcnn_partseg.pth")
    print("instance mIoU with voting:", vote_test(net, val_loader))


if __name__ == "__main__":
    main()
