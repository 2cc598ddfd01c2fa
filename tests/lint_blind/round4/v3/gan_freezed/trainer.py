"""Few-shot GAN transfer: fine-tune a pretrained SNGAN on a small target set with FreezeD.

run as: python -m gan_freezed.trainer --config configs/animal_faces.yaml
"""
import argparse

import torch
import torch.nn.functional as F
import torchvision.utils as vutils
import yaml

from .evaluate import fid_score, real_statistics
from .feature_nets import build_inception_features
from .freeze_utils import freeze_lower_discriminator, trainable
from .networks import build_gan
from fewshot_data import target_loader


class FreezeDTrainer:
    def __init__(self, cfg):
        self.cfg = cfg
        self.device = cfg.get("device", "cuda")
        self.G, self.D = build_gan(cfg, self.device)
        n = freeze_lower_discriminator(self.D, cfg["freeze_d_blocks"])
        print(f"froze {n} conv layers in the discriminator")
        self.opt_g = torch.optim.Adam(self.G.parameters(), cfg["lr_g"], betas=(0.0, 0.9))
        self.opt_d = torch.optim.Adam(trainable(self.D.parameters()), cfg["lr_d"], betas=(0.0, 0.9))
        self.loader = target_loader(cfg["data"], cfg["batch"])
        self.fid_net = build_inception_features(device=self.device)
        self.real_mu, self.real_sigma = real_statistics(self.fid_net, self.loader, self.device)
        self.fixed_z = torch.randn(64, self.G.z_dim, device=self.device)

    def step(self, real):
        self.G.train()
        self.D.train()
        z = torch.randn(real.size(0), self.G.z_dim, device=self.device)
        fake = self.G(z)
        d_loss = F.relu(1 - self.D(real)).mean() + F.relu(1 + self.D(fake.detach())).mean()
        self.opt_d.zero_grad()
        d_loss.backward()
        self.opt_d.step()

        g_loss = -self.D(fake).mean()
        self.opt_g.zero_grad()
        g_loss.backward()
        self.opt_g.step()
        return d_loss.item(), g_loss.item()

    def fit(self):
        it = 0
        while it < self.cfg["iters"]:
            for real, _ in self.loader:
                d_l, g_l = self.step(real.to(self.device))
                it += 1
                if it % self.cfg["eval_every"] == 0:
                    fid = fid_score(self.G, self.fid_net, self.real_mu, self.real_sigma, device=self.device)
                    print(f"it {it} D {d_l:.3f} G {g_l:.3f} FID {fid:.2f}")
                    with torch.no_grad():
                        self.G.eval()
                        grid = self.G(self.fixed_z)
                        self.G.train()
                    vutils.save_image(grid, f"{self.cfg['out']}/it{it:06d}.png", normalize=True, value_range=(-1, 1))
                if it >= self.cfg["iters"]:
                    break


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    cfg = yaml.safe_load(open(ap.parse_args().config))
    FreezeDTrainer(cfg).fit()


if __name__ == "__main__":
    main()
