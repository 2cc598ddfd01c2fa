"""ConvNeXt-V2 style blocks plus a couple of regularised heads."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.ops import stochastic_depth


class DropPath(nn.Module):
    """Per-sample stochastic depth."""

    def __init__(self, drop_prob: float = 0.0, scale_by_keep: bool = True):
        super().__init__()
        self.drop_prob = drop_prob
        self.scale_by_keep = scale_by_keep

    def forward(self, x):
        if self.drop_prob == 0.0 or not self.training:
            return x
        keep_prob = 1 - self.drop_prob
        shape = (x.shape[0],) + (1,) * (x.ndim - 1)
        random_tensor = x.new_empty(shape).bernoulli_(keep_prob)
        if keep_prob > 0.0 and self.scale_by_keep:
            random_tensor.div_(keep_prob)
        return x * random_tensor

    def extra_repr(self):
        return f"drop_prob={round(self.drop_prob, 3):0.3f}"


class LayerNorm2d(nn.LayerNorm):
    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class GRN(nn.Module):
    """Global response normalisation (channels-last input)."""

    def __init__(self, dim):
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(1, 1, 1, dim))
        self.beta = nn.Parameter(torch.zeros(1, 1, 1, dim))

    def forward(self, x):
        gx = torch.norm(x, p=2, dim=(1, 2), keepdim=True)
        nx = gx / (gx.mean(dim=-1, keepdim=True) + 1e-6)
        return self.gamma * (x * nx) + self.beta + x


class ConvNeXtBlock(nn.Module):
    def __init__(self, dim, drop_path=0.0, mlp_drop=0.0):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.grn = GRN(4 * dim)
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.mlp_drop = mlp_drop
        self.drop_path = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()

    def forward(self, x):
        shortcut = x
        x = self.dwconv(x).permute(0, 2, 3, 1)
        x = self.grn(self.act(self.pwconv1(self.norm(x))))
        x = F.dropout(x, self.mlp_drop, self.training)
        x = self.pwconv2(x).permute(0, 3, 1, 2)
        return shortcut + self.drop_path(x)


class Stage(nn.Module):
    def __init__(self, cin, cout, depth, dp_rates, downsample=True, row_mode_sd=0.0):
        super().__init__()
        self.down = nn.Sequential(LayerNorm2d(cin, eps=1e-6), nn.Conv2d(cin, cout, 2, 2)) if downsample else nn.Identity()
        self.blocks = nn.ModuleList(ConvNeXtBlock(cout, r) for r in dp_rates)
        self.row_mode_sd = row_mode_sd

    def forward(self, x):
        x = self.down(x)
        for blk in self.blocks:
            x = x + stochastic_depth(blk(x) - x, self.row_mode_sd, "row", self.training)
        return x


class SpatialDropHead(nn.Module):
    """Segmentation-style head: channel dropout on the feature map, optional."""

    def __init__(self, cin, n_classes, p=0.1, spatial=True):
        super().__init__()
        self.spatial = spatial
        self.p = p
        self.conv = nn.Conv2d(cin, cin // 2, 3, padding=1)
        self.cls = nn.Conv2d(cin // 2, n_classes, 1)

    def forward(self, x):
        x = F.relu(self.conv(x))
        x = F.dropout2d(x, p=self.p, training=self.training and self.spatial)
        return self.cls(x)


class SelfNormalizingHead(nn.Module):
    def __init__(self, cin, n_out, hidden=512, p=0.05):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(cin, hidden), nn.Linear(hidden, n_out)
        self.p = p
        nn.init.kaiming_normal_(self.fc1.weight, nonlinearity="linear")

    def forward(self, x):
        x = F.selu(self.fc1(x))
        x = F.alpha_dropout(x, p=self.p, training=self.training)
        return self.fc2(x)


class ConvNeXtV2(nn.Module):
    def __init__(self, n_classes=1000, depths=(3, 3, 9, 3), dims=(96, 192, 384, 768), drop_path_rate=0.1):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, dims[0], 4, 4), LayerNorm2d(dims[0], eps=1e-6))
        rates = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
        stages, cur, cin = [], 0, dims[0]
        for i, (d, c) in enumerate(zip(depths, dims)):
            stages.append(Stage(cin, c, d, rates[cur:cur + d], downsample=i > 0))
            cur += d
            cin = c
        self.stages = nn.Sequential(*stages)
        self.norm = nn.LayerNorm(dims[-1], eps=1e-6)
        self.head = SelfNormalizingHead(dims[-1], n_classes)

    def forward(self, x):
        x = self.stages(self.stem(x))
        return self.head(self.norm(x.mean((-2, -1))))
