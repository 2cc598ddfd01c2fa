"""PPO for continuous control (MuJoCo), single process, GAE(lambda)."""
import numpy as np
import torch
import torch.nn as nn
from torch.distributions import Normal


def mlp(sizes, act=nn.Tanh, out_gain=1.0):
    layers = []
    for i in range(len(sizes) - 1):
        lin = nn.Linear(sizes[i], sizes[i + 1])
        last = i == len(sizes) - 2
        nn.init.orthogonal_(lin.weight, out_gain if last else np.sqrt(2))
        nn.init.zeros_(lin.bias)
        layers += [lin] if last else [lin, act()]
    return nn.Sequential(*layers)


class ActorCritic(nn.Module):
    def __init__(self, obs_dim, act_dim, hidden=(64, 64)):
        super().__init__()
        self.pi = mlp([obs_dim, *hidden, act_dim], out_gain=0.01)
        self.v = mlp([obs_dim, *hidden, 1], out_gain=1.0)
        self.log_std = nn.Parameter(-0.5 * torch.ones(act_dim))

    def dist(self, obs):
        return Normal(self.pi(obs), self.log_std.exp())

    def forward(self, obs):
        return self.dist(obs), self.v(obs).squeeze(-1)


class RunningNorm:
    def __init__(self, shape, eps=1e-4):
        self.mean, self.var, self.count = np.zeros(shape), np.ones(shape), eps

    def update(self, x):
        bm, bv, n = x.mean(0), x.var(0), x.shape[0]
        delta, tot = bm - self.mean, self.count + n
        self.mean = self.mean + delta * n / tot
        self.var = (self.var * self.count + bv * n + delta ** 2 * self.count * n / tot) / tot
        self.count = tot

    def __call__(self, x):
        return np.clip((x - self.mean) / np.sqrt(self.var + 1e-8), -10, 10)


class PPO:
    def __init__(self, env, steps=2048, epochs=10, mb=64, clip=0.2, gamma=0.99, lam=0.95, lr=3e-4):
        self.env = env
        od, ad = env.observation_space.shape[0], env.action_space.shape[0]
        self.ac = ActorCritic(od, ad)
        self.opt = torch.optim.Adam(self.ac.parameters(), lr=lr, eps=1e-5)
        self.norm = RunningNorm(od)
        self.steps, self.epochs, self.mb, self.clip = steps, epochs, mb, clip
        self.gamma, self.lam = gamma, lam
        self.obs, _ = env.reset(seed=1)

    def collect(self):
        self.ac.eval()  # pure MLP: mode has no effect, kept for symmetry with the CNN agents
        buf = {k: [] for k in ("obs", "act", "logp", "rew", "val", "done")}
        for _ in range(self.steps):
            self.norm.update(self.obs[None])
            o = torch.as_tensor(self.norm(self.obs), dtype=torch.float32)
            with torch.no_grad():
                d, v = self.ac(o)
                a = d.sample()
            nxt, r, term, trunc, _ = self.env.step(a.numpy())
            for k, x in zip(buf, (o, a, d.log_prob(a).sum(), r, v, float(term or trunc))):
                buf[k].append(x)
            self.obs = self.env.reset()[0] if (term or trunc) else nxt
        return buf

    def advantages(self, buf):
        rew, val, done = np.array(buf["rew"]), torch.stack(buf["val"]).numpy(), np.array(buf["done"])
        adv, last = np.zeros_like(rew), 0.0
        for t in reversed(range(len(rew))):
            nv = val[t + 1] if t + 1 < len(rew) else 0.0
            delta = rew[t] + self.gamma * nv * (1 - done[t]) - val[t]
            last = delta + self.gamma * self.lam * (1 - done[t]) * last
            adv[t] = last
        return torch.as_tensor(adv, dtype=torch.float32), torch.as_tensor(adv + val, dtype=torch.float32)

    def update(self, buf):
        obs, act, logp_old = torch.stack(buf["obs"]), torch.stack(buf["act"]), torch.stack(buf["logp"])
        adv, ret = self.advantages(buf)
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        for _ in range(self.epochs):
            for idx in torch.randperm(len(obs)).split(self.mb):
                d, v = self.ac(obs[idx])
                ratio = (d.log_prob(act[idx]).sum(-1) - logp_old[idx]).exp()
                pg = -torch.min(ratio * adv[idx], ratio.clamp(1 - self.clip, 1 + self.clip) * adv[idx]).mean()
                loss = pg + 0.5 * (v - ret[idx]).pow(2).mean() - 0.0 * d.entropy().mean()
                self.opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(self.ac.parameters(), 0.5)
                self.opt.step()

    def learn(self, iterations):
        for it in range(iterations):
            buf = self.collect()
            self.update(buf)
            print(f"iter {it}: mean reward/step {np.mean(buf['rew']):.3f}")
