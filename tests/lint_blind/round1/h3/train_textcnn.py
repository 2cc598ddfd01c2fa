"""Kim-style CNN sentence classifier with early stopping on the dev set."""
import argparse
import random

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from textdata import build_vocab, load_split, make_batches


class TextCNN(nn.Module):
    def __init__(self, vocab_size, n_classes, emb_dim=300, widths=(3, 4, 5), maps=100,
                 dropout=0.5, pretrained=None, pad_idx=0):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_idx)
        if pretrained is not None:
            self.embed.weight.data.copy_(pretrained)
        self.convs = nn.ModuleList(nn.Conv1d(emb_dim, maps, w) for w in widths)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(maps * len(widths), n_classes)

    def forward(self, tokens, lengths=None):
        x = self.embed(tokens).transpose(1, 2)
        pooled = [F.relu(conv(x)).max(dim=2).values for conv in self.convs]
        return self.fc(self.dropout(torch.cat(pooled, dim=1)))


def evaluate(model, batches, device):
    model.eval()  # expect: MG101
    loss_sum, correct, n = 0.0, 0, 0
    for tokens, lengths, labels in batches:
        tokens, labels = tokens.to(device), labels.to(device)
        logits = model(tokens, lengths)  # expect: MG401
        loss_sum += F.cross_entropy(logits, labels, reduction="sum").item()
        correct += (logits.argmax(1) == labels).sum().item()
        n += labels.size(0)
    return loss_sum / n, correct / n


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/sst2")
    ap.add_argument("--vectors", default=None, help="path to word2vec .txt")
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--bs", type=int, default=50)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--max-norm", type=float, default=3.0)
    ap.add_argument("--patience", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()

    seed_all(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train, dev, test = (load_split(args.data, s) for s in ("train", "dev", "test"))
    vocab, vectors = build_vocab(train, args.vectors)
    n_classes = len({label for _, label in train})

    model = TextCNN(len(vocab), n_classes, pretrained=vectors).to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", patience=1)

    best_dev, bad_epochs = float("inf"), 0
    for epoch in range(1, args.epochs + 1):
        random.shuffle(train)
        total = 0.0
        for tokens, lengths, labels in make_batches(train, vocab, args.bs):
            tokens, labels = tokens.to(device), labels.to(device)
            loss = F.cross_entropy(model(tokens, lengths), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                w = model.fc.weight
                norms = w.norm(dim=1, keepdim=True).clamp(min=args.max_norm)
                w.mul_(args.max_norm / norms)
            total += loss.item()

        dev_loss, dev_acc = evaluate(model, make_batches(dev, vocab, 256), device)
        scheduler.step(dev_loss)
        print(f"epoch {epoch:2d} train {total:.2f} dev loss {dev_loss:.4f} acc {dev_acc:.4f}")
        if dev_loss < best_dev:
            best_dev, bad_epochs = dev_loss, 0
            torch.save(model.state_dict(), "textcnn_best.pt")
        else:
            bad_epochs += 1
            if bad_epochs >= args.patience:
                print("early stop")
                break

    model.load_state_dict(torch.load("textcnn_best.pt"))
    _, test_acc = evaluate(model, make_batches(test, vocab, 256), device)
    print(f"test acc {test_acc:.4f}")


if __name__ == "__main__":
    main()
