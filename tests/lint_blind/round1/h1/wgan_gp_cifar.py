import argparse
import contextlib
import os

import torch
import torch.nn as nn
import torchvision
from torch import autograd
from torchvision.utils import save_image

from fid_score import FIDMeter

Z_DIM = 128


@contextlib.contextmanager
def sampling_mode(net):
    """Eval mode + no autograd for the body; the previous mode is put back afterwards."""
    prev = net.training
    net.eval()
    try:
        with torch.no_grad():
            yield net
    finally:
        net.train(prev)


class Gen(nn.Module):
    def __init__(self, ch=256):
        super().__init__()
        self.fc = nn.Linear(Z_DIM, 4 * 4 * ch)
        self.ch = ch

        def up(cin, cout):
            return nn.Sequential(nn.BatchNorm2d(cin), nn.ReLU(True), nn.Upsample(scale_factor=2),
                                 nn.Conv2d(cin, cout, 3, 1, 1))

        self.blocks = nn.Sequential(up(ch, ch), up(ch, ch), up(ch, ch))
        self.out = nn.Sequential(nn.BatchNorm2d(ch), nn.ReLU(True), nn.Conv2d(ch, 3, 3, 1, 1), nn.Tanh())

    def forward(self, z):
        return self.out(self.blocks(self.fc(z).view(-1, self.ch, 4, 4)))


class Critic(nn.Module):
    # no BatchNorm in the critic: it would break the per-sample gradient penalty
    def __init__(self, ch=128):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, ch, 3, 1, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(ch, ch, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(ch, ch * 2, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(ch * 2, ch * 4, 4, 2, 1), nn.LeakyReLU(0.2),
        )
        self.fc = nn.Linear(ch * 4 * 4 * 4, 1)

    def forward(self, x):
        return self.fc(self.net(x).flatten(1))


def gradient_penalty(critic, real, fake):
    eps = torch.rand(real.size(0), 1, 1, 1, device=real.device)
    mix = (eps * real + (1 - eps) * fake).requires_grad_(True)
    grads = autograd.grad(critic(mix).sum(), mix, create_graph=True)[0]
    return ((grads.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=100000)
    ap.add_argument("--n_critic", type=int, default=5)
    ap.add_argument("--gp", type=float, default=10.0)
    ap.add_argument("--bs", type=int, default=64)
    ap.add_argument("--sample_every", type=int, default=1000)
    ap.add_argument("--fid_every", type=int, default=10000)
    ap.add_argument("--out", default="wgan_out")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    dev = torch.device("cuda")
    tf = torchvision.transforms.Compose([torchvision.transforms.ToTensor(),
                                         torchvision.transforms.Normalize([0.5] * 3, [0.5] * 3)])
    ds = torchvision.datasets.CIFAR10("data", train=True, transform=tf, download=False)
    dl = torch.utils.data.DataLoader(ds, batch_size=args.bs, shuffle=True, drop_last=True, num_workers=4)
    stream = iter(dl)

    def next_real():
        nonlocal stream
        try:
            return next(stream)[0].to(dev)
        except StopIteration:
            stream = iter(dl)
            return next(stream)[0].to(dev)

    G, D = Gen().to(dev), Critic().to(dev)
    optG = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.0, 0.9))
    optD = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.0, 0.9))
    fixed_z = torch.randn(100, Z_DIM, device=dev)
    fid = FIDMeter(ds, device=dev)

    G.train()
    D.train()
    for it in range(1, args.iters + 1):
        for _ in range(args.n_critic):
            real = next_real()
            with torch.no_grad():
                fake = G(torch.randn(real.size(0), Z_DIM, device=dev))
            lossD = D(fake).mean() - D(real).mean() + args.gp * gradient_penalty(D, real, fake)
            optD.zero_grad()
            lossD.backward()
            optD.step()

        lossG = -D(G(torch.randn(args.bs, Z_DIM, device=dev))).mean()
        optG.zero_grad()
        lossG.backward()
        optG.step()

        if it % args.sample_every == 0:
            with sampling_mode(G):
                save_image(G(fixed_z) * 0.5 + 0.5, f"{args.out}/it{it:06d}.png", nrow=10)
            print(f"it {it}: D {lossD.item():.3f} G {lossG.item():.3f}")
        if it % args.fid_every == 0:
            with sampling_mode(G):
                score = fid.compute(lambda n: G(torch.randn(n, Z_DIM, device=dev)), n_samples=10000)
            print(f"it {it}: FID {score:.2f}")
            torch.save({"G": G.state_dict(), "D": D.state_dict(), "it": it}, f"{args.out}/ckpt.pt")


if __name__ == "__main__":
    main()
