"""ResNet backbone wrapper used when transferring self-supervised weights to dense tasks.

`frozen_stages` stem/stages get requires_grad=False, and every BatchNorm in the
backbone is kept in eval mode *across* calls to .train() (the override below).
"""
import torch
import torch.nn as nn
import torchvision


class SSLBackbone(nn.Module):
    def __init__(self, depth=50, weights_path=None, frozen_stages=1, norm_eval=True):
        super().__init__()
        net = getattr(torchvision.models, f"resnet{depth}")()
        if weights_path:
            sd = torch.load(weights_path, map_location="cpu")
            sd = {k.split("encoder_q.", 1)[-1]: v for k, v in sd.get("state_dict", sd).items()}
            net.load_state_dict(sd, strict=False)
        self.stem = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool)
        self.stages = nn.ModuleList([net.layer1, net.layer2, net.layer3, net.layer4])
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self._freeze_stages()

    def _freeze_stages(self):
        frozen = [self.stem] + list(self.stages[: self.frozen_stages])
        for mod in frozen:
            mod.eval()
            for p in mod.parameters():
                p.requires_grad = False

    def train(self, mode=True):
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self

    def forward(self, x):
        x = self.stem(x)
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return feats


class HeatmapHead(nn.Module):
    def __init__(self, in_ch=2048, n_joints=17):
        super().__init__()
        layers, ch = [], in_ch
        for _ in range(3):
            layers += [nn.ConvTranspose2d(ch, 256, 4, 2, 1, bias=False), nn.BatchNorm2d(256), nn.ReLU(inplace=True)]
            ch = 256
        self.deconv = nn.Sequential(*layers)
        self.final = nn.Conv2d(256, n_joints, 1)

    def forward(self, c5):
        return self.final(self.deconv(c5))


class PoseNet(nn.Module):
    def __init__(self, weights_path=None):
        super().__init__()
        self.backbone = SSLBackbone(weights_path=weights_path)
        self.head = HeatmapHead()

    def forward(self, x):
        return self.head(self.backbone(x)[-1])


def heatmap_loss(pred, target, weight):
    return ((pred - target) ** 2 * weight[:, :, None, None]).mean()


def train_pose(train_loader, val_loader, weights, epochs=140, val_every=1000, device="cuda"):
    net = PoseNet(weights).to(device)
    opt = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=1e-3)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [90, 120], 0.1)
    it = 0
    for epoch in range(epochs):
        for img, hm, w in train_loader:
            net.train()
            loss = heatmap_loss(net(img.to(device)), hm.to(device), w.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
            it += 1
            if it % val_every == 0:
                net.eval()
                with torch.no_grad():
                    vl = sum(heatmap_loss(net(i.to(device)), h.to(device), ww.to(device)).item()
                             for i, h, ww in val_loader) / len(val_loader)
                print(f"it {it} train {loss.item():.5f} val {vl:.5f}")
        sched.step()
    return net
