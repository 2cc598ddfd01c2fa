"""Double DQN with NoisyNet exploration (no epsilon-greedy) on Atari."""
import argparse
import collections
import copy
import math
import random

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from atari_wrappers import make_atari_env

Transition = collections.namedtuple("Transition", "s a r s2 done")


class NoisyLinear(nn.Module):
    def __init__(self, fan_in, fan_out, sigma0=0.5):
        super().__init__()
        self.fan_in, self.fan_out = fan_in, fan_out
        bound = 1 / math.sqrt(fan_in)
        self.w_mu = nn.Parameter(torch.empty(fan_out, fan_in).uniform_(-bound, bound))
        self.w_sigma = nn.Parameter(torch.full((fan_out, fan_in), sigma0 / math.sqrt(fan_in)))
        self.b_mu = nn.Parameter(torch.empty(fan_out).uniform_(-bound, bound))
        self.b_sigma = nn.Parameter(torch.full((fan_out,), sigma0 / math.sqrt(fan_in)))
        self.register_buffer("eps_in", torch.zeros(fan_in))
        self.register_buffer("eps_out", torch.zeros(fan_out))
        self.resample()

    @staticmethod
    def _f(x):
        return x.sign() * x.abs().sqrt()

    def resample(self):
        self.eps_in.copy_(self._f(torch.randn(self.fan_in)))
        self.eps_out.copy_(self._f(torch.randn(self.fan_out)))

    def forward(self, x):
        if self.training:
            w = self.w_mu + self.w_sigma * torch.outer(self.eps_out, self.eps_in)
            b = self.b_mu + self.b_sigma * self.eps_out
        else:
            w, b = self.w_mu, self.b_mu
        return F.linear(x, w, b)


class QNet(nn.Module):
    def __init__(self, n_actions):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(4, 32, 8, 4), nn.ReLU(), nn.Conv2d(32, 64, 4, 2), nn.ReLU(),
            nn.Conv2d(64, 64, 3, 1), nn.ReLU(), nn.Flatten())
        self.fc1 = NoisyLinear(3136, 512)
        self.fc2 = NoisyLinear(512, n_actions)

    def forward(self, obs):
        return self.fc2(F.relu(self.fc1(self.features(obs.float() / 255.0))))

    def resample(self):
        self.fc1.resample()
        self.fc2.resample()


def greedy_return(q, env_id, episodes, device):
    env = make_atari_env(env_id, clip_rewards=False)
    q.eval()  # expect: MG101
    scores = []
    with torch.no_grad():
        for _ in range(episodes):
            obs, done, ret = env.reset(), False, 0.0
            while not done:
                a = q(torch.as_tensor(obs, device=device)[None]).argmax(1).item()
                obs, r, done, _ = env.step(a)
                ret += r
            scores.append(ret)
    return float(np.mean(scores))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--env", default="BreakoutNoFrameskip-v4")
    ap.add_argument("--frames", type=int, default=10_000_000)
    ap.add_argument("--buffer", type=int, default=1_000_000)
    ap.add_argument("--learn_start", type=int, default=80_000)
    ap.add_argument("--target_every", type=int, default=8_000)
    ap.add_argument("--eval_every", type=int, default=250_000)
    args = ap.parse_args()
    device = torch.device("cuda")

    env = make_atari_env(args.env)
    online = QNet(env.action_space.n).to(device)
    target = copy.deepcopy(online)
    for p in target.parameters():
        p.requires_grad_(False)
    opt = torch.optim.Adam(online.parameters(), lr=6.25e-5, eps=1.5e-4)
    replay = collections.deque(maxlen=args.buffer)

    online.train()
    target.train()  # noisy target network, as in the Rainbow paper
    obs = env.reset()
    for frame in range(1, args.frames + 1):
        if frame % 4 == 0:
            online.resample()
        with torch.no_grad():
            act = online(torch.as_tensor(obs, device=device)[None]).argmax(1).item()
        nxt, rew, done, _ = env.step(act)
        replay.append(Transition(obs, act, rew, nxt, done))
        obs = env.reset() if done else nxt

        if frame > args.learn_start and frame % 4 == 0:
            batch = Transition(*zip(*random.sample(replay, 32)))
            s = torch.as_tensor(np.stack(batch.s), device=device)
            s2 = torch.as_tensor(np.stack(batch.s2), device=device)
            a = torch.as_tensor(batch.a, device=device)
            r = torch.as_tensor(batch.r, device=device, dtype=torch.float32)
            d = torch.as_tensor(batch.done, device=device, dtype=torch.float32)
            with torch.no_grad():
                target.resample()
                best = online(s2).argmax(1, keepdim=True)
                y = r + 0.99 * (1 - d) * target(s2).gather(1, best).squeeze(1)
            q_sa = online(s).gather(1, a[:, None]).squeeze(1)
            loss = F.smooth_l1_loss(q_sa, y)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(online.parameters(), 10.0)
            opt.step()

        if frame % args.target_every == 0:
            target.load_state_dict(online.state_dict())
        if frame % args.eval_every == 0:
            print(f"frame {frame}: eval return {greedy_return(online, args.env, 10, device):.1f}")
            torch.save(online.state_dict(), "noisy_dqn.pt")


if __name__ == "__main__":
    main()
