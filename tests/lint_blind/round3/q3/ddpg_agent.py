"""DDPG with batch-normalised actor/critic (as in Lillicrap et al.)."""
import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Actor(nn.Module):
    def __init__(self, obs_dim, act_dim, hid=(400, 300), max_action=1.0):
        super().__init__()
        self.bn0 = nn.BatchNorm1d(obs_dim)
        self.l1 = nn.Linear(obs_dim, hid[0])
        self.bn1 = nn.BatchNorm1d(hid[0])
        self.l2 = nn.Linear(hid[0], hid[1])
        self.bn2 = nn.BatchNorm1d(hid[1])
        self.out = nn.Linear(hid[1], act_dim)
        self.max_action = max_action

    def forward(self, s):
        h = F.relu(self.bn1(self.l1(self.bn0(s))))
        h = F.relu(self.bn2(self.l2(h)))
        return self.max_action * torch.tanh(self.out(h))


class Critic(nn.Module):
    def __init__(self, obs_dim, act_dim, hid=(400, 300)):
        super().__init__()
        self.bn0 = nn.BatchNorm1d(obs_dim)
        self.l1 = nn.Linear(obs_dim, hid[0])
        self.bn1 = nn.BatchNorm1d(hid[0])
        self.l2 = nn.Linear(hid[0] + act_dim, hid[1])
        self.q = nn.Linear(hid[1], 1)

    def forward(self, s, a):
        h = F.relu(self.bn1(self.l1(self.bn0(s))))
        h = F.relu(self.l2(torch.cat([h, a], dim=-1)))
        return self.q(h)


class DDPG:
    def __init__(self, obs_dim, act_dim, max_action, device="cpu", gamma=0.99, tau=5e-3):
        self.device = device
        self.actor = Actor(obs_dim, act_dim, max_action=max_action).to(device)
        self.critic = Critic(obs_dim, act_dim).to(device)
        self.actor_targ = copy.deepcopy(self.actor).eval()
        self.critic_targ = copy.deepcopy(self.critic).eval()
        self.a_opt = torch.optim.Adam(self.actor.parameters(), lr=1e-4)
        self.c_opt = torch.optim.Adam(self.critic.parameters(), lr=1e-3, weight_decay=1e-2)
        self.gamma, self.tau = gamma, tau
        self.max_action = max_action

    def act(self, obs, noise=0.1):
        self.actor.eval()
        with torch.no_grad():
            s = torch.as_tensor(obs, dtype=torch.float32, device=self.device).unsqueeze(0)
            a = self.actor(s).squeeze(0).cpu().numpy()
        self.actor.train()
        a = a + noise * self.max_action * np.random.randn(*a.shape)
        return np.clip(a, -self.max_action, self.max_action)

    def probe_q(self, states):
        """Mean Q of the greedy policy on a fixed batch of states (a learning-progress probe)."""
        self.actor.eval()
        self.critic.eval()  # expect: MG101
        with torch.no_grad():
            s = torch.as_tensor(states, dtype=torch.float32, device=self.device)
            q = self.critic(s, self.actor(s)).mean().item()
        self.actor.train()
        return q

    def update(self, batch):
        s, a, r, s2, d = (torch.as_tensor(x, dtype=torch.float32, device=self.device) for x in batch)
        with torch.no_grad():
            y = r + self.gamma * (1 - d) * self.critic_targ(s2, self.actor_targ(s2))
        c_loss = F.mse_loss(self.critic(s, a), y)
        self.c_opt.zero_grad()
        c_loss.backward()
        self.c_opt.step()

        a_loss = -self.critic(s, self.actor(s)).mean()
        self.a_opt.zero_grad()
        a_loss.backward()
        self.a_opt.step()

        with torch.no_grad():
            for net, targ in ((self.actor, self.actor_targ), (self.critic, self.critic_targ)):
                for p, tp in zip(net.parameters(), targ.parameters()):
                    tp.mul_(1 - self.tau).add_(p, alpha=self.tau)
        return c_loss.item(), a_loss.item()


def run(env, agent, buffer, total_steps=1_000_000, start=10_000, probe_every=5000, bs=64):
    obs, _ = env.reset(seed=0)
    probe_states = None
    for t in range(total_steps):
        act = env.action_space.sample() if t < start else agent.act(obs)
        nxt, rew, term, trunc, _ = env.step(act)
        buffer.add(obs, act, rew, nxt, float(term))
        obs = nxt
        if term or trunc:
            obs, _ = env.reset()
        if t >= start:
            agent.update(buffer.sample(bs))
            if probe_states is None:
                probe_states = buffer.sample(1024)[0]
            if t % probe_every == 0:
                print(f"t={t} Q(s, pi(s))={agent.probe_q(probe_states):.3f}")
