"""PPO with GAE for MuJoCo-style continuous control (single file, CleanRL flavour)."""
import argparse
import time

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
from torch.distributions import Normal


def layer_init(layer, std=np.sqrt(2), bias=0.0):
    nn.init.orthogonal_(layer.weight, std)
    nn.init.constant_(layer.bias, bias)
    return layer


class ActorCritic(nn.Module):
    def __init__(self, obs_dim, act_dim):
        super().__init__()
        self.critic = nn.Sequential(
            layer_init(nn.Linear(obs_dim, 64)), nn.Tanh(),
            layer_init(nn.Linear(64, 64)), nn.Tanh(),
            layer_init(nn.Linear(64, 1), std=1.0))
        self.actor_mean = nn.Sequential(
            layer_init(nn.Linear(obs_dim, 64)), nn.Tanh(),
            layer_init(nn.Linear(64, 64)), nn.Tanh(),
            layer_init(nn.Linear(64, act_dim), std=0.01))
        self.log_std = nn.Parameter(torch.zeros(1, act_dim))

    def value(self, obs):
        return self.critic(obs)

    def act(self, obs, action=None):
        mean = self.actor_mean(obs)
        dist = Normal(mean, self.log_std.expand_as(mean).exp())
        if action is None:
            action = dist.sample()
        return action, dist.log_prob(action).sum(1), dist.entropy().sum(1), self.critic(obs)


def evaluate(agent, env_id, episodes=10, seed=1000):
    env = gym.make(env_id)
    returns = []
    for ep in range(episodes):
        obs, _ = env.reset(seed=seed + ep)
        done, total = False, 0.0
        while not done:
            with torch.no_grad():
                mean = agent.actor_mean(torch.as_tensor(obs, dtype=torch.float32)[None])
            obs, r, term, trunc, _ = env.step(mean[0].numpy())
            total += r
            done = term or trunc
        returns.append(total)
    return float(np.mean(returns))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--env-id", default="HalfCheetah-v4")
    p.add_argument("--total-steps", type=int, default=1_000_000)
    p.add_argument("--num-steps", type=int, default=2048)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--minibatch", type=int, default=64)
    p.add_argument("--gamma", type=float, default=0.99)
    p.add_argument("--lam", type=float, default=0.95)
    p.add_argument("--clip", type=float, default=0.2)
    a = p.parse_args()

    env = gym.wrappers.ClipAction(gym.make(a.env_id))
    od, ad = env.observation_space.shape[0], env.action_space.shape[0]
    agent = ActorCritic(od, ad)
    opt = torch.optim.Adam(agent.parameters(), lr=3e-4, eps=1e-5)
    obs_b = torch.zeros(a.num_steps, od)
    act_b = torch.zeros(a.num_steps, ad)
    logp_b, rew_b, done_b, val_b = (torch.zeros(a.num_steps) for _ in range(4))

    obs, _ = env.reset(seed=0)
    obs = torch.tensor(obs, dtype=torch.float32)
    t0 = time.time()
    for update in range(a.total_steps // a.num_steps):
        for t in range(a.num_steps):
            obs_b[t] = obs
            with torch.no_grad():
                action, logp, _, v = agent.act(obs[None])
            act_b[t], logp_b[t], val_b[t] = action[0], logp[0], v[0, 0]
            nxt, r, term, trunc, _ = env.step(action[0].numpy())
            rew_b[t], done_b[t] = r, float(term or trunc)
            obs = torch.tensor(env.reset()[0] if (term or trunc) else nxt, dtype=torch.float32)

        with torch.no_grad():
            next_v = agent.value(obs[None])[0, 0]
            adv = torch.zeros(a.num_steps)
            last = 0.0
            for t in reversed(range(a.num_steps)):
                nv = next_v if t == a.num_steps - 1 else val_b[t + 1]
                delta = rew_b[t] + a.gamma * nv * (1 - done_b[t]) - val_b[t]
                last = delta + a.gamma * a.lam * (1 - done_b[t]) * last
                adv[t] = last
            ret = adv + val_b

        for _ in range(a.epochs):
            for mb in torch.randperm(a.num_steps).split(a.minibatch):
                _, newlogp, ent, v = agent.act(obs_b[mb], act_b[mb])
                ratio = (newlogp - logp_b[mb]).exp()
                mb_adv = (adv[mb] - adv[mb].mean()) / (adv[mb].std() + 1e-8)
                pg = torch.max(-mb_adv * ratio, -mb_adv * ratio.clamp(1 - a.clip, 1 + a.clip)).mean()
                loss = pg + 0.5 * ((v.squeeze(1) - ret[mb]) ** 2).mean() - 0.0 * ent.mean()
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), 0.5)
                opt.step()

        if update % 20 == 0:
            print(f"update {update} eval return {evaluate(agent, a.env_id):.1f} ({time.time() - t0:.0f}s)")


if __name__ == "__main__":
    main()
