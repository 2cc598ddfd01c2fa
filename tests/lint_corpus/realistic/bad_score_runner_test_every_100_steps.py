"""Score-matching runner: a held-out loss every 100 steps switches the network to eval for good."""
import torch
import torch.nn as nn


class ScoreNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(784, 256), nn.BatchNorm1d(256), nn.ELU(), nn.Linear(256, 784))

    def forward(self, x, sigmas):
        return self.net(x) / sigmas[:, None]


def dsm_loss(score, x, sigmas):
    noise = torch.randn_like(x) * sigmas[:, None]
    target = -noise / sigmas[:, None] ** 2
    return ((score(x + noise, sigmas) - target) ** 2).sum(dim=-1).mean()


class AnnealRunner:
    def __init__(self, config):
        self.config = config

    def train(self, dataloader, test_loader):
        score = ScoreNet()
        optimizer = torch.optim.Adam(score.parameters(), lr=1e-3)
        sigmas = torch.linspace(1.0, 0.01, 10)
        step = 0
        score.train()
        for epoch in range(self.config.n_epochs):
            for i, (X, y) in enumerate(dataloader):
                step += 1
                labels = torch.randint(0, len(sigmas), (X.shape[0],))
                loss = dsm_loss(score, X, sigmas[labels])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()

                if step % 100 == 0:
                    score.eval()  # expect: MG101
                    test_X, _ = next(iter(test_loader))
                    with torch.no_grad():
                        test_loss = dsm_loss(score, test_X, sigmas[labels])
                    print(step, test_loss.item())
