"""Image captioning: validation in eval mode, but every batch's graph is built and kept."""
import torch
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.cnn = nn.Sequential(nn.Conv2d(3, 64, 3, 2, 1), nn.BatchNorm2d(64), nn.ReLU(), nn.AdaptiveAvgPool2d(14))

    def forward(self, images):
        return self.cnn(images).flatten(2).transpose(1, 2)


class DecoderWithAttention(nn.Module):
    def __init__(self, vocab_size=10000, dim=512, dropout=0.5):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim)
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(dim, vocab_size)

    def forward(self, enc, caps):
        return self.fc(self.dropout(self.embedding(caps) + enc.mean(1, keepdim=True)))


def validate(val_loader, encoder, decoder, criterion):
    decoder.eval()
    if encoder is not None:
        encoder.eval()
    references, hypotheses = [], []
    for i, (imgs, caps, caplens, allcaps) in enumerate(val_loader):
        if encoder is not None:
            imgs = encoder(imgs)  # expect: MG401
        scores = decoder(imgs, caps)  # expect: MG401
        loss = criterion(scores.flatten(0, 1), caps.flatten())
        references.extend(allcaps.tolist())
        hypotheses.extend(scores.argmax(-1).tolist())
    return loss, references, hypotheses
