"""Visual-semantic embedding: image/caption encoders trained with a hinge triplet loss."""
import argparse
import logging

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils import clip_grad_norm_
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from vse.data import get_loaders
from vse.evaluation import i2t, t2i


class ImageProjector(nn.Module):
    def __init__(self, feat_dim, embed_size):
        super().__init__()
        self.fc = nn.Linear(feat_dim, embed_size)
        self.bn = nn.BatchNorm1d(embed_size)

    def forward(self, feats):
        return nn.functional.normalize(self.bn(self.fc(feats)), dim=-1)


class CaptionGRU(nn.Module):
    def __init__(self, vocab, word_dim, embed_size, layers=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, word_dim)
        self.rnn = nn.GRU(word_dim, embed_size, layers, batch_first=True, dropout=0.25)

    def forward(self, tokens, lengths):
        packed = pack_padded_sequence(self.embed(tokens), lengths, batch_first=True)
        out, _ = pad_packed_sequence(self.rnn(packed)[0], batch_first=True)
        idx = (torch.as_tensor(lengths) - 1).view(-1, 1, 1).expand(-1, 1, out.size(2))
        return nn.functional.normalize(out.gather(1, idx.to(out.device)).squeeze(1), dim=-1)


def hinge_triplet(im, s, margin):
    scores = im @ s.t()
    diag = scores.diag().view(-1, 1)
    cost_s = (margin + scores - diag).clamp(min=0)
    cost_im = (margin + scores - diag.t()).clamp(min=0)
    mask = torch.eye(scores.size(0), device=scores.device) > 0.5
    return cost_s.masked_fill(mask, 0).max(1)[0].sum() + cost_im.masked_fill(mask, 0).max(0)[0].sum()


class JointEmbedder:
    """Holds both encoders and their optimizer (not an nn.Module)."""

    def __init__(self, opt):
        self.img_enc = ImageProjector(opt.img_dim, opt.embed_size).cuda()
        self.txt_enc = CaptionGRU(opt.vocab_size, opt.word_dim, opt.embed_size).cuda()
        self.params = list(self.img_enc.parameters()) + list(self.txt_enc.parameters())
        self.optimizer = torch.optim.Adam(self.params, lr=opt.learning_rate)
        self.margin = opt.margin
        self.grad_clip = opt.grad_clip
        self.Eiters = 0

    def start_training(self):
        self.img_enc.train()
        self.txt_enc.train()

    def start_scoring(self):
        self.img_enc.eval()  # expect: MG101
        self.txt_enc.eval()  # expect: MG101

    def encode(self, images, captions, lengths):
        return self.img_enc(images.cuda()), self.txt_enc(captions.cuda(), lengths)

    def step(self, images, captions, lengths):
        self.Eiters += 1
        im, s = self.encode(images, captions, lengths)
        loss = hinge_triplet(im, s, self.margin)
        self.optimizer.zero_grad()
        loss.backward()
        if self.grad_clip > 0:
            clip_grad_norm_(self.params, self.grad_clip)
        self.optimizer.step()
        return loss.item()


def recall_sum(model, loader):
    model.start_scoring()
    img_embs, cap_embs = [], []
    with torch.no_grad():
        for images, captions, lengths, _ in loader:
            im, s = model.encode(images, captions, lengths)
            img_embs.append(im.cpu().numpy())
            cap_embs.append(s.cpu().numpy())
    img_embs, cap_embs = np.concatenate(img_embs), np.concatenate(cap_embs)
    r1, r5, r10 = i2t(img_embs, cap_embs)[:3]
    r1i, r5i, r10i = t2i(img_embs, cap_embs)[:3]
    return r1 + r5 + r10 + r1i + r5i + r10i


def run_epoch(opt, model, train_loader, val_loader, epoch):
    model.start_training()
    for i, (images, captions, lengths, _) in enumerate(train_loader):
        loss = model.step(images, captions, lengths)
        if model.Eiters % opt.log_step == 0:
            logging.info("epoch %d iter %d loss %.4f", epoch, i, loss)
        if model.Eiters % opt.val_step == 0:
            logging.info("rsum %.2f", recall_sum(model, val_loader))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data_path", default="data/")
    p.add_argument("--num_epochs", type=int, default=30)
    p.add_argument("--img_dim", type=int, default=4096)
    p.add_argument("--word_dim", type=int, default=300)
    p.add_argument("--embed_size", type=int, default=1024)
    p.add_argument("--vocab_size", type=int, default=11755)
    p.add_argument("--margin", type=float, default=0.2)
    p.add_argument("--grad_clip", type=float, default=2.0)
    p.add_argument("--learning_rate", type=float, default=2e-4)
    p.add_argument("--log_step", type=int, default=10)
    p.add_argument("--val_step", type=int, default=500)
    opt = p.parse_args()
    train_loader, val_loader = get_loaders(opt.data_path, opt)
    model = JointEmbedder(opt)
    for epoch in range(opt.num_epochs):
        run_epoch(opt, model, train_loader, val_loader, epoch)


if __name__ == "__main__":
    main()
