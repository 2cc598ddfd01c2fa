"""DDPG (Lillicrap et al.) with batch-normalised actor and critic, as in the original paper."""
import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Actor(nn.Module):
    def __init__(self, s_dim, a_dim, max_a):
        super().__init__()
        self.net = nn.Sequential(
            nn.BatchNorm1d(s_dim),
            nn.Linear(s_dim, 400), nn.BatchNorm1d(400), nn.ReLU(),
            nn.Linear(400, 300), nn.BatchNorm1d(300), nn.ReLU(),
            nn.Linear(300, a_dim), nn.Tanh())
        self.max_a = max_a

    def forward(self, s):
        return self.max_a * self.net(s)


class Critic(nn.Module):
    def __init__(self, s_dim, a_dim):
        super().__init__()
        self.s_path = nn.Sequential(nn.BatchNorm1d(s_dim), nn.Linear(s_dim, 400), nn.BatchNorm1d(400), nn.ReLU())
        self.q = nn.Sequential(nn.Linear(400 + a_dim, 300), nn.ReLU(), nn.Linear(300, 1))

    def forward(self, s, a):
        return self.q(torch.cat([self.s_path(s), a], dim=1))


class OUNoise:
    def __init__(self, dim, theta=0.15, sigma=0.2):
        self.dim, self.theta, self.sigma = dim, theta, sigma
        self.reset()

    def reset(self):
        self.x = np.zeros(self.dim)

    def __call__(self):
        self.x += self.theta * -self.x + self.sigma * np.random.randn(self.dim)
        return self.x


class DDPGAgent:
    def __init__(self, s_dim, a_dim, max_a, gamma=0.99, tau=1e-3, device="cpu"):
        self.actor = Actor(s_dim, a_dim, max_a).to(device)
        self.critic = Critic(s_dim, a_dim).to(device)
        self.actor_tgt = copy.deepcopy(self.actor).eval()
        self.critic_tgt = copy.deepcopy(self.critic).eval()
        for p in list(self.actor_tgt.parameters()) + list(self.critic_tgt.parameters()):
            p.requires_grad_(False)
        self.a_opt = torch.optim.Adam(self.actor.parameters(), lr=1e-4)
        self.c_opt = torch.optim.Adam(self.critic.parameters(), lr=1e-3, weight_decay=1e-2)
        self.noise = OUNoise(a_dim)
        self.gamma, self.tau, self.max_a, self.device = gamma, tau, max_a, device

    def act(self, state, explore=True):
        # a single state cannot go through BatchNorm in training mode
        self.actor.eval()
        with torch.no_grad():
            a = self.actor(torch.as_tensor(state, dtype=torch.float32, device=self.device)[None])[0]
        self.actor.train()
        a = a.cpu().numpy()
        if explore:
            a = a + self.noise() * self.max_a
        return np.clip(a, -self.max_a, self.max_a)

    @torch.no_grad()
    def _soft_update(self, tgt, src):
        for (k, v_t), v in zip(tgt.state_dict().items(), src.state_dict().values()):
            if v_t.dtype.is_floating_point:
                v_t.mul_(1 - self.tau).add_(self.tau * v)
            else:
                v_t.copy_(v)

    def update(self, batch):
        s, a, r, s2, d = (torch.as_tensor(x, dtype=torch.float32, device=self.device) for x in batch)
        with torch.no_grad():
            y = r[:, None] + self.gamma * (1 - d[:, None]) * self.critic_tgt(s2, self.actor_tgt(s2))
        c_loss = F.mse_loss(self.critic(s, a), y)
        self.c_opt.zero_grad()
        c_loss.backward()
        self.c_opt.step()

        a_loss = -self.critic(s, self.actor(s)).mean()
        self.a_opt.zero_grad()
        a_loss.backward()
        self.a_opt.step()

        self._soft_update(self.actor_tgt, self.actor)
        self._soft_update(self.critic_tgt, self.critic)
        return c_loss.item(), a_loss.item()


def train(env, agent, replay, episodes=1000, batch=64, warmup=1000):
    agent.actor.train()
    agent.critic.train()
    total_steps = 0
    for ep in range(episodes):
        s, _ = env.reset()
        agent.noise.reset()
        done, ret = False, 0.0
        while not done:
            a = agent.act(s)
            s2, r, term, trunc, _ = env.step(a)
            replay.add(s, a, r, s2, float(term))
            s, ret, done = s2, ret + r, term or trunc
            total_steps += 1
            if len(replay) > warmup:
                agent.update(replay.sample(batch))
        if ep % 20 == 0:
            print(f"episode {ep} return {ret:.1f} steps {total_steps}")
