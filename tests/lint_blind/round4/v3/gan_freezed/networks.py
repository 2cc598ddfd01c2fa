"""SNGAN-style generator / discriminator pair used for few-shot transfer (FreezeD)."""
import torch
import torch.nn as nn
from torch.nn.utils import spectral_norm


class GBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.bn1, self.bn2 = nn.BatchNorm2d(cin), nn.BatchNorm2d(cout)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.sc = nn.Conv2d(cin, cout, 1)
        self.up = nn.Upsample(scale_factor=2)

    def forward(self, x):
        h = self.conv1(self.up(torch.relu(self.bn1(x))))
        h = self.conv2(torch.relu(self.bn2(h)))
        return h + self.sc(self.up(x))


class Generator(nn.Module):
    def __init__(self, z_dim=128, ch=256, n_blocks=4):
        super().__init__()
        self.z_dim, self.ch = z_dim, ch
        self.fc = nn.Linear(z_dim, 4 * 4 * ch)
        self.blocks = nn.Sequential(*[GBlock(ch, ch) for _ in range(n_blocks)])
        self.out = nn.Sequential(nn.BatchNorm2d(ch), nn.ReLU(), nn.Conv2d(ch, 3, 3, 1, 1), nn.Tanh())

    def forward(self, z):
        return self.out(self.blocks(self.fc(z).view(-1, self.ch, 4, 4)))


class DBlock(nn.Module):
    def __init__(self, cin, cout, down=True):
        super().__init__()
        self.conv1 = spectral_norm(nn.Conv2d(cin, cout, 3, 1, 1))
        self.bn = nn.BatchNorm2d(cout)
        self.conv2 = spectral_norm(nn.Conv2d(cout, cout, 3, 1, 1))
        self.sc = spectral_norm(nn.Conv2d(cin, cout, 1))
        self.pool = nn.AvgPool2d(2) if down else nn.Identity()

    def forward(self, x):
        h = self.conv2(torch.relu(self.bn(self.conv1(torch.relu(x)))))
        return self.pool(h) + self.pool(self.sc(x))


class Discriminator(nn.Module):
    def __init__(self, ch=128, n_blocks=5, p_drop=0.2):
        super().__init__()
        chans = [3] + [ch * min(2 ** i, 8) for i in range(n_blocks)]
        self.blocks = nn.ModuleList([DBlock(chans[i], chans[i + 1], down=i < n_blocks - 1) for i in range(n_blocks)])
        self.drop = nn.Dropout(p_drop)
        self.fc = spectral_norm(nn.Linear(chans[-1], 1))

    def forward(self, x):
        for blk in self.blocks:
            x = blk(x)
        return self.fc(self.drop(torch.relu(x).sum(dim=(2, 3)))).squeeze(1)


def build_gan(cfg, device="cuda"):
    G = Generator(cfg["z_dim"], cfg["g_ch"]).to(device)
    D = Discriminator(cfg["d_ch"]).to(device)
    if cfg.get("pretrained"):
        state = torch.load(cfg["pretrained"], map_location=device)
        G.load_state_dict(state["G"])
        D.load_state_dict(state["D"])
    return G, D
