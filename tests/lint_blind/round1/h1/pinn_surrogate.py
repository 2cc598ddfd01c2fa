"""Physics-informed MLP surrogate for the 1D viscous Burgers equation.

u_t + u u_x - nu u_xx = 0 on x in [-1, 1], t in [0, 1].
The network is a plain tanh MLP (no dropout, no normalisation layers).
"""
import argparse
import math

import numpy as np
import torch
import torch.nn as nn

NU = 0.01 / math.pi


class TanhMLP(nn.Module):
    def __init__(self, width=64, depth=6):
        super().__init__()
        layers = [nn.Linear(2, width), nn.Tanh()]
        for _ in range(depth - 1):
            layers += [nn.Linear(width, width), nn.Tanh()]
        layers.append(nn.Linear(width, 1))
        self.mlp = nn.Sequential(*layers)
        for m in self.mlp:
            if isinstance(m, nn.Linear):
                nn.init.xavier_normal_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x, t):
        return self.mlp(torch.cat([x, t], dim=1))


def residual(net, x, t):
    x.requires_grad_(True)
    t.requires_grad_(True)
    u = net(x, t)
    u_t, u_x = torch.autograd.grad(u.sum(), (t, x), create_graph=True)
    u_xx = torch.autograd.grad(u_x.sum(), x, create_graph=True)[0]
    return u_t + u * u_x - NU * u_xx


def boundary_batch(n, device):
    x0 = torch.rand(n, 1, device=device) * 2 - 1
    t0 = torch.zeros_like(x0)
    u0 = -torch.sin(math.pi * x0)
    tb = torch.rand(n, 1, device=device)
    xb = torch.where(torch.rand(n, 1, device=device) < 0.5, -torch.ones_like(tb), torch.ones_like(tb))
    return (x0, t0, u0), (xb, tb, torch.zeros_like(tb))


def rel_l2_vs_reference(net, ref, device):
    net.eval()
    x = torch.tensor(ref["x"], dtype=torch.float32, device=device).view(-1, 1)
    t = torch.tensor(ref["t"], dtype=torch.float32, device=device).view(-1, 1)
    u_ref = torch.tensor(ref["u"], dtype=torch.float32, device=device).view(-1, 1)
    with torch.no_grad():
        u = net(x, t)
    return (torch.linalg.norm(u - u_ref) / torch.linalg.norm(u_ref)).item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20000)
    ap.add_argument("--n_col", type=int, default=8192)
    ap.add_argument("--check_every", type=int, default=1000)
    ap.add_argument("--reference", default="data/burgers_shock.npz")
    args = ap.parse_args()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    ref = dict(np.load(args.reference))
    net = TanhMLP().to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9998)

    for step in range(1, args.steps + 1):
        xc = torch.rand(args.n_col, 1, device=device) * 2 - 1
        tc = torch.rand(args.n_col, 1, device=device)
        (x0, t0, u0), (xb, tb, ub) = boundary_batch(512, device)
        loss_pde = residual(net, xc, tc).pow(2).mean()
        loss_ic = (net(x0, t0) - u0).pow(2).mean()
        loss_bc = (net(xb, tb) - ub).pow(2).mean()
        loss = loss_pde + 10.0 * (loss_ic + loss_bc)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % args.check_every == 0:
            err = rel_l2_vs_reference(net, ref, device)
            print(f"step {step:6d} pde {loss_pde.item():.3e} ic {loss_ic.item():.3e} "
                  f"bc {loss_bc.item():.3e} rel-L2 {err:.3e}")

    torch.save(net.state_dict(), "burgers_pinn.pt")


if __name__ == "__main__":
    main()
