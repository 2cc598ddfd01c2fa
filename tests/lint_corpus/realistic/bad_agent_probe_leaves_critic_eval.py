"""An actor-critic agent whose Q-value probe puts both networks in eval mode but only switches the actor back.

The critic's BatchNorm1d then stays in eval mode for every later update(), so its running
statistics freeze and the batches it trains on are normalised with stale numbers.
"""
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F


def mlp(n_in, n_out, hidden=256):
    return nn.Sequential(
        nn.Linear(n_in, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
        nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
        nn.Linear(hidden, n_out),
    )


class DDPGAgent:
    def __init__(self, obs_dim, act_dim, gamma=0.99, tau=0.005):
        self.actor = mlp(obs_dim, act_dim)
        self.critic = mlp(obs_dim + act_dim, 1)
        self.actor_target = copy.deepcopy(self.actor).eval()
        self.critic_target = copy.deepcopy(self.critic).eval()
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=1e-4)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=1e-3)
        self.gamma, self.tau = gamma, tau

    def act(self, obs):
        self.actor.eval()
        with torch.no_grad():
            action = torch.tanh(self.actor(obs.unsqueeze(0))).squeeze(0)
        self.actor.train()
        return action

    def q_probe(self, states):
        self.actor.eval()
        self.critic.eval()  # expect: MG101
        with torch.no_grad():
            actions = torch.tanh(self.actor(states))
            q = self.critic(torch.cat([states, actions], dim=-1))
        self.actor.train()
        return q.mean().item()

    def update(self, s, a, r, s2, done):
        with torch.no_grad():
            a2 = torch.tanh(self.actor_target(s2))
            target = r + self.gamma * (1 - done) * self.critic_target(torch.cat([s2, a2], -1))
        critic_loss = F.mse_loss(self.critic(torch.cat([s, a], -1)), target)
        self.critic_opt.zero_grad()
        critic_loss.backward()
        self.critic_opt.step()
        actor_loss = -self.critic(torch.cat([s, torch.tanh(self.actor(s))], -1)).mean()
        self.actor_opt.zero_grad()
        actor_loss.backward()
        self.actor_opt.step()


def run(env, agent, buffer, probe_states, total_steps=1_000_000, probe_every=5000):
    obs = env.reset()
    for t in range(total_steps):
        action = agent.act(obs)
        next_obs, reward, done, _ = env.step(action)
        buffer.add(obs, action, reward, next_obs, done)
        obs = env.reset() if done else next_obs
        if len(buffer) > 1024:
            agent.update(*buffer.sample(256))
        if t % probe_every == 0:
            print(f"step {t}: mean Q on probe states {agent.q_probe(probe_states):.3f}")
