"""A GAN trainer validates every 200 iterations; the validation puts both networks in eval in a
loop over the pair and nothing switches them back before the next update."""
import torch
import torch.nn as nn

G = nn.Sequential(nn.Linear(16, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Linear(64, 32))
D = nn.Sequential(nn.Linear(32, 64), nn.Dropout(0.3), nn.Linear(64, 1))
opt_g = torch.optim.Adam(G.parameters())
opt_d = torch.optim.Adam(D.parameters())


def validate(noise):
    for net in (G, D):
        net.eval()  # expect: MG101
    with torch.no_grad():
        return D(G(noise)).mean()


def train(loader, epochs):
    G.train()
    D.train()
    for epoch in range(epochs):
        for i, real in enumerate(loader):
            fake = G(torch.randn(real.shape[0], 16))
            loss_d = D(fake.detach()).mean() - D(real).mean()
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            loss_g = -D(fake).mean()
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            if i % 200 == 0:
                print(validate(torch.randn(8, 16)))
