"""Image-caption retrieval with a joint embedding (hinge loss on hardest negatives)."""
import argparse
import logging
import time

import numpy as np
import torch
import torch.nn as nn
import torchvision

from coco_data import get_loaders
from evaluation import i2t, t2i, AverageMeter


def l2norm(x, dim=-1, eps=1e-8):
    return x / (x.norm(dim=dim, keepdim=True) + eps)


class ImageTower(nn.Module):
    def __init__(self, embed_size):
        super().__init__()
        cnn = torchvision.models.resnet152(weights="IMAGENET1K_V1")
        self.cnn = nn.Sequential(*list(cnn.children())[:-1])
        self.fc = nn.Linear(2048, embed_size)

    def forward(self, images):
        feats = self.cnn(images).flatten(1)
        return l2norm(self.fc(feats))


class CaptionTower(nn.Module):
    def __init__(self, vocab_size, word_dim, embed_size, num_layers=2):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, word_dim)
        self.rnn = nn.GRU(word_dim, embed_size, num_layers, batch_first=True, dropout=0.25)

    def forward(self, tokens, lengths):
        x = self.embed(tokens)
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.rnn(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
        idx = (torch.as_tensor(lengths, device=out.device) - 1).view(-1, 1, 1).expand(-1, 1, out.size(2))
        return l2norm(out.gather(1, idx).squeeze(1))


class JointEmbedding(object):
    """Holds both towers, the loss and the optimiser (not an nn.Module)."""

    def __init__(self, opt):
        self.img_tower = ImageTower(opt.embed_size).cuda()
        self.cap_tower = CaptionTower(opt.vocab_size, opt.word_dim, opt.embed_size).cuda()
        params = list(self.cap_tower.parameters()) + list(self.img_tower.parameters())
        self.optimizer = torch.optim.Adam(params, lr=opt.learning_rate)
        self.margin = opt.margin
        self.grad_clip = opt.grad_clip
        self.Eiters = 0

    def state_dict(self):
        return [self.img_tower.state_dict(), self.cap_tower.state_dict()]

    def train_start(self):
        self.img_tower.train()
        self.cap_tower.train()

    def val_start(self):
        self.img_tower.eval()  # expect: MG101
        self.cap_tower.eval()  # expect: MG101

    def embed(self, images, captions, lengths):
        return self.img_tower(images.cuda()), self.cap_tower(captions.cuda(), lengths)

    def contrastive(self, im, s):
        scores = im @ s.t()
        diag = scores.diag().view(-1, 1)
        cost_s = (self.margin + scores - diag).clamp(min=0)
        cost_im = (self.margin + scores - diag.t()).clamp(min=0)
        mask = torch.eye(scores.size(0), device=scores.device, dtype=torch.bool)
        cost_s = cost_s.masked_fill(mask, 0).max(1)[0]
        cost_im = cost_im.masked_fill(mask, 0).max(0)[0]
        return cost_s.sum() + cost_im.sum()

    def train_emb(self, images, captions, lengths):
        self.Eiters += 1
        img_emb, cap_emb = self.embed(images, captions, lengths)
        loss = self.contrastive(img_emb, cap_emb)
        self.optimizer.zero_grad()
        loss.backward()
        if self.grad_clip > 0:
            nn.utils.clip_grad_norm_(self.cap_tower.parameters(), self.grad_clip)
        self.optimizer.step()
        return loss.item()


def encode_split(model, loader):
    img_embs, cap_embs = None, None
    with torch.no_grad():
        for images, captions, lengths, ids in loader:
            im, cap = model.embed(images, captions, lengths)
            if img_embs is None:
                img_embs = np.zeros((len(loader.dataset), im.size(1)))
                cap_embs = np.zeros((len(loader.dataset), cap.size(1)))
            img_embs[ids] = im.cpu().numpy()
            cap_embs[ids] = cap.cpu().numpy()
    return img_embs, cap_embs


def recall_sum(opt, val_loader, model):
    model.val_start()
    img_embs, cap_embs = encode_split(model, val_loader)
    r1, r5, r10 = i2t(img_embs, cap_embs)[:3]
    r1i, r5i, r10i = t2i(img_embs, cap_embs)[:3]
    logging.info("i2t %.1f %.1f %.1f | t2i %.1f %.1f %.1f", r1, r5, r10, r1i, r5i, r10i)
    return r1 + r5 + r10 + r1i + r5i + r10i


def run_epoch(opt, train_loader, model, epoch, val_loader, best):
    batch_time = AverageMeter()
    model.train_start()
    end = time.time()
    for i, (images, captions, lengths, _) in enumerate(train_loader):
        loss = model.train_emb(images, captions, lengths)
        batch_time.update(time.time() - end)
        end = time.time()
        if model.Eiters % opt.log_step == 0:
            logging.info("Epoch [%d][%d/%d] loss %.4f (%.3fs)", epoch, i, len(train_loader), loss, batch_time.avg)
        if model.Eiters % opt.val_step == 0:
            rsum = recall_sum(opt, val_loader, model)
            if rsum > best:
                best = rsum
                torch.save({"model": model.state_dict(), "epoch": epoch}, opt.ckpt)
    return best


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data_path", default="data/coco")
    p.add_argument("--num_epochs", type=int, default=30)
    p.add_argument("--embed_size", type=int, default=1024)
    p.add_argument("--word_dim", type=int, default=300)
    p.add_argument("--vocab_size", type=int, default=11755)
    p.add_argument("--margin", type=float, default=0.2)
    p.add_argument("--grad_clip", type=float, default=2.0)
    p.add_argument("--learning_rate", type=float, default=2e-4)
    p.add_argument("--log_step", type=int, default=10)
    p.add_argument("--val_step", type=int, default=500)
    p.add_argument("--ckpt", default="runs/best.pth")
    opt = p.parse_args()
    logging.basicConfig(level=logging.INFO)

    train_loader, val_loader = get_loaders(opt.data_path, batch_size=128)
    model = JointEmbedding(opt)
    best = 0.0
    for epoch in range(opt.num_epochs):
        best = run_epoch(opt, train_loader, model, epoch, val_loader, best)
        best = max(best, recall_sum(opt, val_loader, model))


if __name__ == "__main__":
    main()
