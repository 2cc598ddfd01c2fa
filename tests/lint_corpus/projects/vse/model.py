"""A wrapper object (not an nn.Module) that switches two encoders between modes."""

from torch import nn


class VSE:
    def __init__(self, dim):
        self.img_enc = nn.Sequential(nn.Linear(dim, dim), nn.Dropout(0.2))
        self.txt_enc = nn.Sequential(nn.Linear(dim, dim), nn.Dropout(0.2))

    def train_start(self):
        self.img_enc.train()
        self.txt_enc.train()

    def val_start(self):
        self.img_enc.eval()  # expect: MG101
        self.txt_enc.eval()  # expect: MG101

    def train_emb(self, images, captions, optimizer):
        loss = (self.img_enc(images) - self.txt_enc(captions)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
