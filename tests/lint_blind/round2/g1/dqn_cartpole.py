import argparse
import random
from collections import deque

import gymnasium as gym
import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F


class MLPQ(nn.Module):
    def __init__(self, obs_dim, n_act, hidden=128):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(obs_dim, hidden), nn.LayerNorm(hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(),
        )
        self.head = nn.Linear(hidden, n_act)

    def forward(self, s):
        return self.head(self.body(s))


class Replay:
    def __init__(self, cap):
        self.buf = deque(maxlen=cap)

    def push(self, *tr):
        self.buf.append(tr)

    def sample(self, n):
        s, a, r, s2, d = zip(*random.sample(self.buf, n))
        f = lambda x, dt=torch.float32: torch.as_tensor(np.array(x), dtype=dt)
        return f(s), f(a, torch.int64), f(r), f(s2), f(d)

    def __len__(self):
        return len(self.buf)


def eps_at(t, start=1.0, end=0.05, decay=10_000):
    return end + (start - end) * np.exp(-t / decay)


def rollout_greedy(qnet, env_name, n=5, seed=123):
    env = gym.make(env_name)
    totals = []
    for ep in range(n):
        s, _ = env.reset(seed=seed + ep)
        done, tot = False, 0.0
        while not done:
            with torch.no_grad():
                a = qnet(torch.as_tensor(s, dtype=torch.float32)[None]).argmax(1).item()
            s, r, term, trunc, _ = env.step(a)
            tot += r
            done = term or trunc
        totals.append(tot)
    return float(np.mean(totals))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--env", default="CartPole-v1")
    ap.add_argument("--steps", type=int, default=60_000)
    ap.add_argument("--gamma", type=float, default=0.99)
    ap.add_argument("--tau", type=float, default=0.005)
    args = ap.parse_args()

    env = gym.make(args.env)
    obs_dim, n_act = env.observation_space.shape[0], env.action_space.n
    q = MLPQ(obs_dim, n_act)
    q_tgt = MLPQ(obs_dim, n_act)
    q_tgt.load_state_dict(q.state_dict())
    q_tgt.eval()
    opt = torch.optim.AdamW(q.parameters(), lr=3e-4, amsgrad=True)
    mem = Replay(50_000)
    log = []

    s, _ = env.reset(seed=0)
    ep_ret = 0.0
    for t in range(args.steps):
        if random.random() < eps_at(t):
            a = env.action_space.sample()
        else:
            with torch.no_grad():
                a = q(torch.as_tensor(s, dtype=torch.float32)[None]).argmax(1).item()
        s2, r, term, trunc, _ = env.step(a)
        mem.push(s, a, r, s2, float(term))
        s, ep_ret = s2, ep_ret + r
        if term or trunc:
            log.append({"t": t, "ret": ep_ret})
            s, _ = env.reset()
            ep_ret = 0.0

        if len(mem) >= 1000:
            bs, ba, br, bs2, bd = mem.sample(128)
            with torch.no_grad():
                y = br + args.gamma * (1 - bd) * q_tgt(bs2).max(1).values
            pred = q(bs).gather(1, ba[:, None]).squeeze(1)
            loss = F.smooth_l1_loss(pred, y)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_value_(q.parameters(), 100)
            opt.step()
            with torch.no_grad():
                for p_t, p in zip(q_tgt.parameters(), q.parameters()):
                    p_t.mul_(1 - args.tau).add_(args.tau * p)

        if t % 5000 == 0 and t > 0:
            print(f"t={t} greedy return {rollout_greedy(q, args.env):.1f}")

    df = pd.DataFrame(log)
    df["ret_smooth"] = df.ret.rolling(20).mean()
    print("fraction of solved episodes:", df.eval("ret >= 475").mean())
    df.to_csv("dqn_cartpole_returns.csv", index=False)
    torch.save(q.state_dict(), "dqn_cartpole.pt")


if __name__ == "__main__":
    main()
