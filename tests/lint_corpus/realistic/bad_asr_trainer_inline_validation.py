"""An ASR trainer validates inline at the end of each epoch: model.eval(), then the
validation loop runs the model without no_grad (the graph of every batch is kept), and a
second, older trainer validates without ever calling eval()."""
import torch
import torch.nn as nn


class Seq2Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.LSTM(80, 128, num_layers=2, dropout=0.2)
        self.out = nn.Linear(128, 40)

    def forward(self, x):
        return self.out(self.encoder(x)[0])


class Trainer:
    def train(self, model, train_loader, valid_loader, opt, epochs):
        for epoch in range(epochs):
            model.train()
            for src, tgt in train_loader:
                loss = nn.functional.cross_entropy(model(src).flatten(0, 1), tgt.flatten())
                opt.zero_grad()
                loss.backward()
                opt.step()
            model.eval()
            total = 0.0
            for src, tgt in valid_loader:
                pred = model(src)  # expect: MG401
                total += nn.functional.cross_entropy(pred.flatten(0, 1), tgt.flatten()).item()
            print(epoch, total)


class OldTrainer:
    def train(self, model, train_loader, valid_loader, opt, epochs):
        for epoch in range(epochs):
            model.train()
            for src, tgt in train_loader:
                loss = nn.functional.cross_entropy(model(src).flatten(0, 1), tgt.flatten())
                opt.zero_grad()
                loss.backward()
                opt.step()
            errors = 0
            for src, tgt in valid_loader:
                errors += (model(src).argmax(-1) != tgt).sum().item()  # expect: MG102
            print(epoch, errors)
