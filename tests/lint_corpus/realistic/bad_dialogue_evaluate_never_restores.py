"""A dialogue model: evaluate() switches to eval, nothing ever switches back, and the
no_grad around the loop was commented out."""
import argparse

import torch
import torch.nn as nn


class HierEncoderDecoder(nn.Module):
    def __init__(self, vocab, hidden=256, dropout=0.3):
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden)
        self.encoder = nn.GRU(hidden, hidden, num_layers=2, dropout=dropout, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, src):
        h, _ = self.encoder(self.embed(src))
        return self.out(h)


def evaluate(model, loader, criterion):
    model.eval()  # expect: MG101
    total = 0.0
    # with torch.no_grad():
    for src, tgt in loader:
        logits = model(src)  # expect: MG401
        total += criterion(logits.flatten(0, 1), tgt.flatten()).item()
    return total / max(len(loader), 1)


def train(args, model, train_loader, val_loader):
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    for epoch in range(args.epochs):
        for src, tgt in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(src).flatten(0, 1), tgt.flatten())
            loss.backward()
            optimizer.step()
        val_loss = evaluate(model, val_loader, criterion)
        print(epoch, val_loss)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    train(args, HierEncoderDecoder(1000), [], [])
