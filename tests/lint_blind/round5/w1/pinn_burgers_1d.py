"""Physics-informed neural network for the viscous Burgers equation

    u_t + u u_x - (0.01/pi) u_xx = 0,   x in [-1, 1], t in [0, 1]
    u(0, x) = -sin(pi x),  u(t, -1) = u(t, 1) = 0

Adam warm-up followed by L-BFGS. The reference solution is read from burgers_shock.mat.
"""
import argparse

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import scipy.io
import sympy as sp
import torch
import torch.nn as nn

NU = 0.01 / np.pi


class MLP(nn.Module):
    def __init__(self, widths=(2, 20, 20, 20, 20, 20, 20, 20, 20, 1)):
        super().__init__()
        layers = []
        for a, b in zip(widths[:-2], widths[1:-1]):
            layers += [nn.Linear(a, b), nn.Tanh()]
        layers.append(nn.Linear(widths[-2], widths[-1]))
        self.net = nn.Sequential(*layers)
        for m in self.net:
            if isinstance(m, nn.Linear):
                nn.init.xavier_normal_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, t, x):
        return self.net(torch.cat([t, x], dim=1))


def residual(net, t, x):
    t.requires_grad_(True)
    x.requires_grad_(True)
    u = net(t, x)
    ones = torch.ones_like(u)
    u_t, u_x = torch.autograd.grad(u, (t, x), ones, create_graph=True)
    u_xx = torch.autograd.grad(u_x, x, torch.ones_like(u_x), create_graph=True)[0]
    return u_t + u * u_x - NU * u_xx


def sample_points(n_f, n_b, device):
    tf_ = torch.rand(n_f, 1, device=device)
    xf = torch.rand(n_f, 1, device=device) * 2 - 1
    x0 = torch.rand(n_b, 1, device=device) * 2 - 1
    t0 = torch.zeros_like(x0)
    u0 = -torch.sin(np.pi * x0)
    tb = torch.rand(n_b, 1, device=device)
    xb = torch.where(torch.rand(n_b, 1, device=device) < 0.5, -1.0, 1.0)
    return (tf_, xf), (t0, x0, u0), (tb, xb)


def total_loss(net, colloc, init, bnd):
    r = residual(net, *colloc)
    t0, x0, u0 = init
    tb, xb = bnd
    return (r ** 2).mean() + ((net(t0, x0) - u0) ** 2).mean() + (net(tb, xb) ** 2).mean()


def relative_l2(net, ref_path, device):
    data = scipy.io.loadmat(ref_path)
    T, X = np.meshgrid(data["t"].ravel(), data["x"].ravel(), indexing="ij")
    t = torch.tensor(T.reshape(-1, 1), dtype=torch.float32, device=device)
    x = torch.tensor(X.reshape(-1, 1), dtype=torch.float32, device=device)
    net.eval()
    with torch.no_grad():
        u = net(t, x).cpu().numpy().reshape(T.shape)
    u_ref = np.real(data["usol"]).T
    return np.linalg.norm(u - u_ref) / np.linalg.norm(u_ref), (T, X, u)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--adam-iters", type=int, default=5000)
    ap.add_argument("--lbfgs-iters", type=int, default=20000)
    ap.add_argument("--ref", default="burgers_shock.mat")
    args = ap.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(1234)

    # sanity check of the initial condition symbolically
    xs = sp.symbols("x")
    ic = -sp.sin(sp.pi * xs)
    assert abs(float(ic.subs(xs, 0.5).evalf()) + 1.0) < 1e-12

    net = MLP().to(device)
    colloc, init, bnd = sample_points(10000, 200, device)
    adam = torch.optim.Adam(net.parameters(), lr=1e-3)
    for it in range(args.adam_iters):
        adam.zero_grad()
        loss = total_loss(net, colloc, init, bnd)
        loss.backward()
        adam.step()
        if it % 1000 == 0:
            err, _ = relative_l2(net, args.ref, device)
            print(f"adam {it}: loss {loss.item():.3e}  rel L2 {err:.3e}")

    lbfgs = torch.optim.LBFGS(net.parameters(), max_iter=args.lbfgs_iters, tolerance_grad=1e-9,
                              history_size=50, line_search_fn="strong_wolfe")

    def closure():
        lbfgs.zero_grad()
        l = total_loss(net, colloc, init, bnd)
        l.backward()
        return l

    lbfgs.step(closure)
    err, (T, X, u) = relative_l2(net, args.ref, device)
    print(f"final rel L2 error {err:.3e}")
    plt.pcolormesh(T, X, u, cmap="rainbow", shading="auto")
    plt.xlabel("t"); plt.ylabel("x"); plt.colorbar(label="u")
    plt.savefig("burgers_pinn.png", dpi=150)


if __name__ == "__main__":
    main()
