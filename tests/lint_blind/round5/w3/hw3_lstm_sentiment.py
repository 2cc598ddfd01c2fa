# CS 4650 - Homework 3, Part 2: LSTM sentiment classifier on IMDB
# Student solution. Run: python hw3_lstm_sentiment.py
#
# TODO(student) blocks are filled in below.

import random
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence

from hw3_utils import build_vocab, load_imdb_splits, make_batches

SEED = 1234
random.seed(SEED)
torch.manual_seed(SEED)

EMB_DIM = 100
HID_DIM = 256
N_LAYERS = 2
EMB_DROPOUT = 0.3
RNN_DROPOUT = 0.5
BATCH_SIZE = 64
N_EPOCHS = 6
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class SentimentLSTM(nn.Module):
    def __init__(self, vocab_size, pad_idx):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, EMB_DIM, padding_idx=pad_idx)
        self.lstm = nn.LSTM(EMB_DIM, HID_DIM, num_layers=N_LAYERS, bidirectional=True,
                            dropout=RNN_DROPOUT, batch_first=True)
        self.fc = nn.Linear(2 * HID_DIM, 1)
        self.emb_p = EMB_DROPOUT

    def forward(self, text, lengths):
        # TODO(student): embed, dropout, pack, run LSTM, classify from final hidden states
        emb = self.embedding(text)
        emb = F.dropout(emb, p=self.emb_p)  # expect: MG201
        packed = pack_padded_sequence(emb, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, (hidden, _) = self.lstm(packed)
        hidden = torch.cat((hidden[-2], hidden[-1]), dim=1)
        return self.fc(hidden).squeeze(1)


def binary_accuracy(logits, y):
    return ((torch.sigmoid(logits) > 0.5).float() == y).float().mean()


def train_epoch(model, batches, optimizer, criterion):
    model.train()
    tot_loss, tot_acc = 0.0, 0.0
    for text, lengths, labels in batches:
        optimizer.zero_grad()
        logits = model(text.to(device), lengths)
        loss = criterion(logits, labels.to(device))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        tot_loss += loss.item()
        tot_acc += binary_accuracy(logits, labels.to(device)).item()
    return tot_loss / len(batches), tot_acc / len(batches)


def evaluate(model, batches, criterion):
    # TODO(student): compute loss and accuracy on a held-out set
    model.eval()
    tot_loss, tot_acc = 0.0, 0.0
    for text, lengths, labels in batches:
        logits = model(text.to(device), lengths)  # expect: MG401
        tot_loss += criterion(logits, labels.to(device)).item()
        tot_acc += binary_accuracy(logits, labels.to(device)).item()
    return tot_loss / len(batches), tot_acc / len(batches)


if __name__ == "__main__":
    train_data, valid_data, test_data = load_imdb_splits(seed=SEED)
    vocab = build_vocab(train_data, max_size=25000)
    pad_idx = vocab["<pad>"]
    train_batches = make_batches(train_data, vocab, BATCH_SIZE, shuffle=True)
    valid_batches = make_batches(valid_data, vocab, BATCH_SIZE)
    test_batches = make_batches(test_data, vocab, BATCH_SIZE)

    model = SentimentLSTM(len(vocab), pad_idx).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.BCEWithLogitsLoss()

    best_valid = float("inf")
    for epoch in range(N_EPOCHS):
        start = time.time()
        train_loss, train_acc = train_epoch(model, train_batches, optimizer, criterion)
        valid_loss, valid_acc = evaluate(model, valid_batches, criterion)
        if valid_loss < best_valid:
            best_valid = valid_loss
            torch.save(model.state_dict(), "hw3_best.pt")
        print(f"Epoch {epoch + 1:02} | {time.time() - start:.0f}s")
        print(f"\tTrain Loss: {train_loss:.3f} | Train Acc: {train_acc * 100:.2f}%")
        print(f"\t Val. Loss: {valid_loss:.3f} |  Val. Acc: {valid_acc * 100:.2f}%")

    model.load_state_dict(torch.load("hw3_best.pt"))
    test_loss, test_acc = evaluate(model, test_batches, criterion)
    print(f"Test Loss: {test_loss:.3f} | Test Acc: {test_acc * 100:.2f}%")
