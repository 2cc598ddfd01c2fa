"""ResNet backbone for detection with frozen stem/early stages and frozen BN statistics."""
import torch
import torch.nn as nn


class FrozenBN2d(nn.Module):
    """BatchNorm with fixed affine parameters and statistics (no mode dependence)."""

    def __init__(self, n, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.register_buffer("weight", torch.ones(n))
        self.register_buffer("bias", torch.zeros(n))
        self.register_buffer("running_mean", torch.zeros(n))
        self.register_buffer("running_var", torch.ones(n))

    def forward(self, x):
        scale = self.weight * (self.running_var + self.eps).rsqrt()
        shift = self.bias - self.running_mean * scale
        return x * scale.view(1, -1, 1, 1) + shift.view(1, -1, 1, 1)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, width, stride, norm):
        super().__init__()
        cout = width * self.expansion
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = norm(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = norm(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = norm(cout)
        self.relu = nn.ReLU(inplace=True)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), norm(cout))

    def forward(self, x):
        idt = x if self.down is None else self.down(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        return self.relu(self.bn3(self.conv3(y)) + idt)


class DetResNet(nn.Module):
    arch = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}

    def __init__(self, depth=50, frozen_stages=1, norm_eval=True, frozen_bn_layer=False):
        super().__init__()
        norm = FrozenBN2d if frozen_bn_layer else nn.BatchNorm2d
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), norm(64),
                                  nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        cin = 64
        self.stage_names = []
        for i, (n_blocks, width) in enumerate(zip(self.arch[depth], (64, 128, 256, 512))):
            blocks = []
            for b in range(n_blocks):
                blocks.append(Bottleneck(cin, width, 2 if (b == 0 and i > 0) else 1, norm))
                cin = width * Bottleneck.expansion
            name = f"layer{i + 1}"
            self.add_module(name, nn.Sequential(*blocks))
            self.stage_names.append(name)
        self._freeze_stages()

    def _freeze_stages(self):
        if self.frozen_stages >= 0:
            self.stem.eval()
            for p in self.stem.parameters():
                p.requires_grad = False
        for i in range(1, self.frozen_stages + 1):
            stage = getattr(self, f"layer{i}")
            stage.eval()
            for p in stage.parameters():
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
        outs = []
        for name in self.stage_names:
            x = getattr(self, name)(x)
            outs.append(x)
        return tuple(outs)


if __name__ == "__main__":
    net = DetResNet(50).train()
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    assert not any(m.training for m in bns), "norm_eval should keep every BN in eval mode"
    with torch.no_grad():
        print([tuple(o.shape) for o in net.eval()(torch.randn(1, 3, 224, 224))])
