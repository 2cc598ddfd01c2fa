"""Single-file PPO for MuJoCo continuous control (tanh MLP actor-critic, GAE)."""
import argparse
import time

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
from torch.distributions import Normal


def ortho(layer, gain=np.sqrt(2), bias=0.0):
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.constant_(layer.bias, bias)
    return layer


class ActorCritic(nn.Module):
    def __init__(self, obs_dim, act_dim):
        super().__init__()
        self.v = nn.Sequential(ortho(nn.Linear(obs_dim, 64)), nn.Tanh(), ortho(nn.Linear(64, 64)), nn.Tanh(),
                               ortho(nn.Linear(64, 1), 1.0))
        self.mu = nn.Sequential(ortho(nn.Linear(obs_dim, 64)), nn.Tanh(), ortho(nn.Linear(64, 64)), nn.Tanh(),
                                ortho(nn.Linear(64, act_dim), 0.01))
        self.log_std = nn.Parameter(torch.zeros(1, act_dim))

    def value(self, obs):
        return self.v(obs).squeeze(-1)

    def dist(self, obs):
        mu = self.mu(obs)
        return Normal(mu, self.log_std.expand_as(mu).exp())


def deterministic_score(ac, env_id, episodes=10):
    env = gym.wrappers.NormalizeObservation(gym.make(env_id))
    total = []
    for ep in range(episodes):
        obs, _ = env.reset(seed=1000 + ep)
        done, ret = False, 0.0
        while not done:
            with torch.no_grad():
                a = ac.mu(torch.as_tensor(obs, dtype=torch.float32)).numpy()
            obs, r, term, trunc, _ = env.step(a)
            ret += r
            done = term or trunc
        total.append(ret)
    return np.mean(total)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--env", default="HalfCheetah-v4")
    p.add_argument("--total", type=int, default=1_000_000)
    p.add_argument("--n_steps", type=int, default=2048)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--minibatch", type=int, default=64)
    p.add_argument("--gamma", type=float, default=0.99)
    p.add_argument("--lam", type=float, default=0.95)
    p.add_argument("--clip", type=float, default=0.2)
    a = p.parse_args()

    env = gym.wrappers.NormalizeObservation(gym.wrappers.ClipAction(gym.make(a.env)))
    od, ad = env.observation_space.shape[0], env.action_space.shape[0]
    ac = ActorCritic(od, ad)
    opt = torch.optim.Adam(ac.parameters(), lr=3e-4, eps=1e-5)

    obs_b = torch.zeros(a.n_steps, od)
    act_b = torch.zeros(a.n_steps, ad)
    logp_b, rew_b, done_b, val_b = (torch.zeros(a.n_steps) for _ in range(4))
    obs, _ = env.reset(seed=0)
    obs = torch.as_tensor(obs, dtype=torch.float32)
    start = time.time()

    for update in range(a.total // a.n_steps):
        for t in range(a.n_steps):
            with torch.no_grad():
                d = ac.dist(obs[None])
                act = d.sample()[0]
                logp_b[t] = d.log_prob(act[None]).sum(-1)[0]
                val_b[t] = ac.value(obs[None])[0]
            obs_b[t], act_b[t] = obs, act
            nobs, r, term, trunc, _ = env.step(act.numpy())
            rew_b[t], done_b[t] = r, float(term or trunc)
            obs = torch.as_tensor(env.reset()[0] if term or trunc else nobs, dtype=torch.float32)

        with torch.no_grad():
            last_v = ac.value(obs[None])[0]
            adv = torch.zeros(a.n_steps)
            gae = 0.0
            for t in reversed(range(a.n_steps)):
                nv = last_v if t == a.n_steps - 1 else val_b[t + 1]
                delta = rew_b[t] + a.gamma * nv * (1 - done_b[t]) - val_b[t]
                gae = delta + a.gamma * a.lam * (1 - done_b[t]) * gae
                adv[t] = gae
            ret = adv + val_b

        for _ in range(a.epochs):
            for mb in torch.randperm(a.n_steps).split(a.minibatch):
                d = ac.dist(obs_b[mb])
                ratio = (d.log_prob(act_b[mb]).sum(-1) - logp_b[mb]).exp()
                mb_adv = (adv[mb] - adv[mb].mean()) / (adv[mb].std() + 1e-8)
                pg = -torch.min(ratio * mb_adv, ratio.clamp(1 - a.clip, 1 + a.clip) * mb_adv).mean()
                vf = 0.5 * (ac.value(obs_b[mb]) - ret[mb]).pow(2).mean()
                loss = pg + 0.5 * vf - 0.0 * d.entropy().sum(-1).mean()
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(ac.parameters(), 0.5)
                opt.step()

        if update % 50 == 0:
            print(f"update {update} sps {int((update + 1) * a.n_steps / (time.time() - start))} "
                  f"eval {deterministic_score(ac, a.env):.1f}")


if __name__ == "__main__":
    main()
