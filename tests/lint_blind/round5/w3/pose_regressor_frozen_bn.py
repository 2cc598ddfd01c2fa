"""Keypoint heatmap regressor: frozen-BN ResNet backbone + a small attention refiner.

Batches are 4 images per GPU, so the backbone BatchNorm layers keep their ImageNet
statistics. The freeze is re-applied in train() so that model.train() cannot undo it.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class FrozenBNBackbone(nn.Module):
    def __init__(self, depth=50, freeze_bn=True):
        super().__init__()
        resnet = getattr(torchvision.models, f"resnet{depth}")(weights="DEFAULT")
        self.stem = nn.Sequential(resnet.conv1, resnet.bn1, resnet.relu, resnet.maxpool)
        self.layers = nn.Sequential(resnet.layer1, resnet.layer2, resnet.layer3, resnet.layer4)
        self.out_channels = 2048 if depth >= 50 else 512
        self.bn_frozen = freeze_bn
        if freeze_bn:
            for m in self.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.weight.requires_grad_(False)
                    m.bias.requires_grad_(False)

    def train(self, mode=True):
        super().train(mode)
        if self.bn_frozen:
            for m in self.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.eval()
        return self

    def forward(self, x):
        return self.layers(self.stem(x))


class TokenRefiner(nn.Module):
    def __init__(self, dim, heads=8, p_attn=0.1, p_ffn=0.1):
        super().__init__()
        self.heads, self.p_attn, self.p_ffn = heads, p_attn, p_ffn
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.fc1, self.fc2 = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)

    def forward(self, tokens):
        b, n, d = tokens.shape
        q, k, v = self.qkv(self.norm1(tokens)).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        attn = F.scaled_dot_product_attention(q, k, v, dropout_p=self.p_attn if self.training else 0.0)
        tokens = tokens + self.out(attn.transpose(1, 2).reshape(b, n, d))
        h = F.gelu(self.fc1(self.norm2(tokens)))
        h = F.dropout(h, p=self.p_ffn, training=self.training)
        return tokens + self.fc2(h)


class HeatmapNet(nn.Module):
    def __init__(self, num_joints=17, dim=256):
        super().__init__()
        self.backbone = FrozenBNBackbone(50)
        self.reduce = nn.Conv2d(self.backbone.out_channels, dim, 1)
        self.refiner = nn.Sequential(TokenRefiner(dim), TokenRefiner(dim))
        self.head = nn.Sequential(nn.ConvTranspose2d(dim, dim, 4, 2, 1), nn.BatchNorm2d(dim), nn.ReLU(),
                                  nn.ConvTranspose2d(dim, dim, 4, 2, 1), nn.BatchNorm2d(dim), nn.ReLU(),
                                  nn.Conv2d(dim, num_joints, 1))

    def forward(self, img):
        f = self.reduce(self.backbone(img))
        b, c, h, w = f.shape
        t = self.refiner(f.flatten(2).transpose(1, 2))
        return self.head(t.transpose(1, 2).reshape(b, c, h, w))


def fit(model, train_loader, val_loader, epochs=140, lr=1e-3, device="cuda"):
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [90, 120], 0.1)
    for epoch in range(epochs):
        model.train()
        for img, target, weight in train_loader:
            img, target, weight = img.to(device), target.to(device), weight.to(device)
            loss = ((model(img) - target) ** 2 * weight[..., None, None]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        model.eval()
        with torch.no_grad():
            errs = [((model(i.to(device)) - t.to(device)) ** 2).mean().item() for i, t, _ in val_loader]
        print(f"epoch {epoch}: val mse {sum(errs) / len(errs):.6f}")
    return model
