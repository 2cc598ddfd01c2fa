"""IResNet-style face embedding backbone (112x112 input, 512-d output) and helpers."""
import torch
import torch.nn as nn


class IBasicBlock(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin, eps=1e-5)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout, eps=1e-5)
        self.prelu = nn.PReLU(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout, eps=1e-5)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.bn3(self.conv2(self.prelu(self.bn2(self.conv1(self.bn1(x))))))
        return out + (x if self.down is None else self.down(x))


class IResNet(nn.Module):
    def __init__(self, layers=(2, 2, 2, 2), widths=(64, 128, 256, 512), emb_dim=512, dropout=0.0):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.PReLU(64))
        blocks, cin = [], 64
        for n, w in zip(layers, widths):
            blocks.append(IBasicBlock(cin, w, stride=2))
            blocks += [IBasicBlock(w, w) for _ in range(n - 1)]
            cin = w
        self.body = nn.Sequential(*blocks)
        self.bn_feat = nn.BatchNorm2d(cin)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(cin * 7 * 7, emb_dim)
        self.bn_emb = nn.BatchNorm1d(emb_dim)

    def forward(self, x):
        x = self.bn_feat(self.body(self.stem(x)))
        return self.bn_emb(self.fc(self.dropout(torch.flatten(x, 1))))


def iresnet18(**kw):
    return IResNet((2, 2, 2, 2), **kw)


def iresnet50(**kw):
    return IResNet((3, 4, 14, 3), **kw)


def freeze_bn_stats(net):
    """Stop BatchNorm running-statistics updates (useful when fine-tuning on a small set)."""
    count = 0
    for m in net.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.eval()  # expect: MG301
            count += 1
    return count


def load_pretrained(net, path):
    state = torch.load(path, map_location="cpu")
    state = {k: v for k, v in state.items() if not k.startswith("fc.") or v.shape == net.state_dict()[k].shape}
    missing, unexpected = net.load_state_dict(state, strict=False)
    return missing, unexpected
