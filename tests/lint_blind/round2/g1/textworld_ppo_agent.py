"""PPO agent for text-based games: a GRU encodes the observation text and each
admissible command; the policy scores (observation, command) pairs."""
from typing import List

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical

from tw_env import TextGameBatch, tokenize


class TextEncoder(nn.Module):
    def __init__(self, vocab, emb=128, hid=128, p=0.3):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb, padding_idx=0)
        self.gru = nn.GRU(emb, hid, num_layers=2, batch_first=True, dropout=p)
        self.drop = nn.Dropout(p)

    def forward(self, ids):
        _, h = self.gru(self.drop(self.emb(ids)))
        return h[-1]


class CommandScorer(nn.Module):
    def __init__(self, vocab, hid=128, explore_temp=1.0):
        super().__init__()
        self.obs_enc = TextEncoder(vocab, hid=hid)
        self.cmd_enc = TextEncoder(vocab, hid=hid)
        self.critic = nn.Sequential(nn.Linear(hid, hid), nn.Tanh(), nn.Linear(hid, 1))
        self.att = nn.Bilinear(hid, hid, 1)
        self.explore_temp = explore_temp
        self.temp = explore_temp

    def train(self, mode=True):  # expect: MG104
        # sample with temperature while learning, act greedily-ish when evaluating
        self.training = mode
        self.temp = self.explore_temp if mode else 0.1
        return self

    def forward(self, obs_ids, cmd_ids: List[torch.Tensor]):
        o = self.obs_enc(obs_ids)
        value = self.critic(o).squeeze(-1)
        logits = []
        for i, cmds in enumerate(cmd_ids):
            c = self.cmd_enc(cmds)
            logits.append(self.att(o[i].expand_as(c), c).squeeze(-1) / self.temp)
        return logits, value


def collect(agent, env: TextGameBatch, horizon):
    buf = []
    obs, cmds = env.reset()
    for _ in range(horizon):
        with torch.no_grad():
            logits, v = agent(tokenize(obs), [tokenize(c) for c in cmds])
        dists = [Categorical(logits=l) for l in logits]
        acts = [d.sample() for d in dists]
        logps = torch.stack([d.log_prob(a) for d, a in zip(dists, acts)])
        nobs, ncmds, rew, done = env.step([c[a] for c, a in zip(cmds, acts)])
        buf.append((obs, cmds, torch.stack(acts), logps, v, torch.tensor(rew), torch.tensor(done)))
        obs, cmds = nobs, ncmds
    return buf


def ppo_update(agent, opt, buf, clip=0.2, epochs=4, gamma=0.99):
    ret, rets = torch.zeros(len(buf[0][5])), []
    for step in reversed(buf):
        ret = step[5] + gamma * ret * (1 - step[6].float())
        rets.insert(0, ret)
    for _ in range(epochs):
        for (obs, cmds, acts, old_logp, old_v, _, _), R in zip(buf, rets):
            logits, v = agent(tokenize(obs), [tokenize(c) for c in cmds])
            dists = [Categorical(logits=l) for l in logits]
            logp = torch.stack([d.log_prob(a) for d, a in zip(dists, acts)])
            adv = R - old_v
            ratio = (logp - old_logp).exp()
            pg = -torch.min(ratio * adv, ratio.clamp(1 - clip, 1 + clip) * adv).mean()
            ent = torch.stack([d.entropy() for d in dists]).mean()
            loss = pg + 0.5 * F.mse_loss(v, R) - 0.01 * ent
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(agent.parameters(), 0.5)
            opt.step()


def play_eval_games(agent, env, n_games=20):
    agent.eval()
    scores = []
    with torch.no_grad():
        for _ in range(n_games):
            obs, cmds = env.reset()
            done, score = [False], 0.0
            while not all(done):
                logits, _ = agent(tokenize(obs), [tokenize(c) for c in cmds])
                obs, cmds, r, done = env.step([c[l.argmax()] for c, l in zip(cmds, logits)])
                score += sum(r)
            scores.append(score)
    agent.train()
    return sum(scores) / len(scores)


if __name__ == "__main__":
    env = TextGameBatch("games/treasure_hunter_*.z8", batch_size=16)
    agent = CommandScorer(vocab=env.vocab_size)
    opt = torch.optim.Adam(agent.parameters(), lr=3e-4)
    agent.train()
    for it in range(2000):
        ppo_update(agent, opt, collect(agent, env, horizon=32))
        if it % 100 == 0:
            print(it, play_eval_games(agent, TextGameBatch("games/eval_*.z8", batch_size=1)))
