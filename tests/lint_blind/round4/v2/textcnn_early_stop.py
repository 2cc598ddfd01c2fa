"""Kim-style CNN sentence classifier with GloVe init and early stopping on dev accuracy."""
import argparse
import copy
import random

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from sentdata import load_trec, build_vocab, load_glove, batchify


class KimCNN(nn.Module):
    def __init__(self, emb_matrix, n_classes, widths=(3, 4, 5), maps=100, dropout=0.5):
        super().__init__()
        self.embed = nn.Embedding.from_pretrained(torch.as_tensor(emb_matrix, dtype=torch.float), freeze=False,
                                                  padding_idx=0)
        dim = self.embed.embedding_dim
        self.convs = nn.ModuleList([nn.Conv1d(dim, maps, w, padding=w - 1) for w in widths])
        self.bn = nn.BatchNorm1d(maps * len(widths))
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(maps * len(widths), n_classes)

    def forward(self, tokens):
        e = self.embed(tokens).transpose(1, 2)
        pooled = [F.relu(conv(e)).max(dim=2).values for conv in self.convs]
        return self.out(self.dropout(self.bn(torch.cat(pooled, dim=1))))


def epoch_pass(net, batches, device, opt=None):
    training = opt is not None
    net.train(training)
    correct = total = 0
    loss_sum = 0.0
    with torch.set_grad_enabled(training):
        for tokens, labels in batches:
            tokens, labels = tokens.to(device), labels.to(device)
            logits = net(tokens)
            loss = F.cross_entropy(logits, labels)
            if training:
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(net.parameters(), 3.0)
                opt.step()
            loss_sum += loss.item() * labels.size(0)
            correct += (logits.argmax(1) == labels).sum().item()
            total += labels.size(0)
    return loss_sum / total, correct / total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--glove", default="/data/glove.840B.300d.txt")
    ap.add_argument("--patience", type=int, default=5)
    ap.add_argument("--max-epochs", type=int, default=50)
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args()
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)

    train, dev, test = load_trec()
    vocab = build_vocab(train, min_freq=1)
    net = KimCNN(load_glove(args.glove, vocab), n_classes=6)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    net.to(device)
    opt = torch.optim.Adadelta(net.parameters(), lr=1.0, rho=0.95)

    best_acc, best_state, bad_epochs = -1.0, None, 0
    for epoch in range(args.max_epochs):
        tr_loss, tr_acc = epoch_pass(net, batchify(train, vocab, 50, shuffle=True), device, opt)
        dv_loss, dv_acc = epoch_pass(net, batchify(dev, vocab, 200), device)
        print(f"{epoch:3d} train {tr_loss:.3f}/{tr_acc:.3f} dev {dv_loss:.3f}/{dv_acc:.3f}")
        if dv_acc > best_acc:
            best_acc, best_state, bad_epochs = dv_acc, copy.deepcopy(net.state_dict()), 0
        else:
            bad_epochs += 1
            if bad_epochs >= args.patience:
                print(f"early stop at epoch {epoch}")
                break

    net.load_state_dict(best_state)
    _, te_acc = epoch_pass(net, batchify(test, vocab, 200), device)
    print(f"best dev {best_acc:.4f} test {te_acc:.4f}")


if __name__ == "__main__":
    main()
