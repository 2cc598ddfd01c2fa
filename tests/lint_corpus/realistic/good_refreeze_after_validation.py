"""Optical flow training: every validation is followed by train() and the BN freeze again."""
import torch
import torch.nn as nn


class RAFT(nn.Module):
    def __init__(self):
        super().__init__()
        self.fnet = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3), nn.BatchNorm2d(64), nn.ReLU())
        self.update = nn.Conv2d(64, 2, 3, padding=1)

    def forward(self, a, b):
        return self.update(self.fnet(a) - self.fnet(b))

    def freeze_bn(self):
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()


def validate(model):
    model.eval()
    with torch.no_grad():
        return model(torch.zeros(1, 3, 64, 64), torch.zeros(1, 3, 64, 64)).abs().mean()


def train(args, loader):
    model = nn.DataParallel(RAFT())
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr)
    model.train()
    if args.stage != "chairs":
        model.module.freeze_bn()
    total_steps = 0
    while total_steps < args.num_steps:
        for image1, image2, flow in loader:
            optimizer.zero_grad()
            loss = (model(image1, image2) - flow).abs().mean()
            loss.backward()
            optimizer.step()
            total_steps += 1
            if total_steps % args.val_freq == 0:
                validate(model.module)
                model.train()
                if args.stage != "chairs":
                    model.module.freeze_bn()
