"""Noisy-net dueling DQN with n-step returns (a stripped-down Rainbow)."""
import argparse
import math
import random

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from envs import make_atari
from replay import PrioritizedReplay


class NoisyLinear(nn.Module):
    def __init__(self, fan_in, fan_out, sigma0=0.5):
        super().__init__()
        self.fan_in, self.fan_out = fan_in, fan_out
        self.w_mu = nn.Parameter(torch.empty(fan_out, fan_in))
        self.w_sigma = nn.Parameter(torch.empty(fan_out, fan_in))
        self.b_mu = nn.Parameter(torch.empty(fan_out))
        self.b_sigma = nn.Parameter(torch.empty(fan_out))
        self.register_buffer("eps_in", torch.zeros(fan_in))
        self.register_buffer("eps_out", torch.zeros(fan_out))
        bound = 1 / math.sqrt(fan_in)
        nn.init.uniform_(self.w_mu, -bound, bound)
        nn.init.uniform_(self.b_mu, -bound, bound)
        nn.init.constant_(self.w_sigma, sigma0 / math.sqrt(fan_in))
        nn.init.constant_(self.b_sigma, sigma0 / math.sqrt(fan_out))

    @staticmethod
    def _f(x):
        return x.sign() * x.abs().sqrt()

    def resample(self):
        self.eps_in.copy_(self._f(torch.randn(self.fan_in, device=self.eps_in.device)))
        self.eps_out.copy_(self._f(torch.randn(self.fan_out, device=self.eps_out.device)))

    def forward(self, x):
        if self.training:
            w = self.w_mu + self.w_sigma * torch.outer(self.eps_out, self.eps_in)
            b = self.b_mu + self.b_sigma * self.eps_out
            return F.linear(x, w, b)
        return F.linear(x, self.w_mu, self.b_mu)


class DuelingNoisyQ(nn.Module):
    def __init__(self, n_actions, hidden=512):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(4, 32, 8, 4), nn.ReLU(), nn.Conv2d(32, 64, 4, 2), nn.ReLU(),
            nn.Conv2d(64, 64, 3, 1), nn.ReLU(), nn.Flatten())
        self.v1, self.v2 = NoisyLinear(3136, hidden), NoisyLinear(hidden, 1)
        self.a1, self.a2 = NoisyLinear(3136, hidden), NoisyLinear(hidden, n_actions)

    def forward(self, obs):
        h = self.features(obs.float() / 255.0)
        v = self.v2(F.relu(self.v1(h)))
        a = self.a2(F.relu(self.a1(h)))
        return v + a - a.mean(1, keepdim=True)

    def resample(self):
        for m in self.modules():
            if isinstance(m, NoisyLinear):
                m.resample()


def greedy_return(qnet, env, episodes, device):
    qnet.eval()  # expect: MG101
    scores = []
    for _ in range(episodes):
        obs, done, total = env.reset(), False, 0.0
        while not done:
            with torch.no_grad():
                act = qnet(torch.as_tensor(obs, device=device)[None]).argmax(1).item()
            obs, r, done, _ = env.step(act)
            total += r
        scores.append(total)
    return float(np.mean(scores))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--game", default="BreakoutNoFrameskip-v4")
    ap.add_argument("--frames", type=int, default=10_000_000)
    ap.add_argument("--n-step", type=int, default=3)
    ap.add_argument("--gamma", type=float, default=0.99)
    ap.add_argument("--target-every", type=int, default=8000)
    ap.add_argument("--eval-every", type=int, default=250_000)
    args = ap.parse_args()

    dev = torch.device("cuda")
    env, eval_env = make_atari(args.game), make_atari(args.game, clip_rewards=False)
    online = DuelingNoisyQ(env.action_space.n).to(dev)
    target = DuelingNoisyQ(env.action_space.n).to(dev)
    target.load_state_dict(online.state_dict())
    target.eval()
    opt = torch.optim.Adam(online.parameters(), lr=6.25e-5, eps=1.5e-4)
    memory = PrioritizedReplay(1_000_000, n_step=args.n_step, gamma=args.gamma)

    online.train()
    obs = env.reset()
    for frame in range(1, args.frames + 1):
        if frame % 4 == 0:
            online.resample()
        with torch.no_grad():
            action = online(torch.as_tensor(obs, device=dev)[None]).argmax(1).item()
        nxt, reward, done, _ = env.step(action)
        memory.push(obs, action, reward, nxt, done)
        obs = env.reset() if done else nxt

        if frame > 80_000 and frame % 4 == 0:
            idx, s, a, r, s2, d, w = memory.sample(32, device=dev)
            with torch.no_grad():
                best = online(s2).argmax(1, keepdim=True)
                tq = target(s2).gather(1, best).squeeze(1)
                y = r + (args.gamma ** args.n_step) * (1 - d) * tq
            q = online(s).gather(1, a[:, None]).squeeze(1)
            td = F.smooth_l1_loss(q, y, reduction="none")
            opt.zero_grad()
            (w * td).mean().backward()
            nn.utils.clip_grad_norm_(online.parameters(), 10.0)
            opt.step()
            memory.update_priorities(idx, td.detach().cpu().numpy())

        if frame % args.target_every == 0:
            target.load_state_dict(online.state_dict())
        if frame % args.eval_every == 0:
            print(f"frame {frame}: eval return {greedy_return(online, eval_env, 10, dev):.1f}")


if __name__ == "__main__":
    random.seed(0)
    main()
