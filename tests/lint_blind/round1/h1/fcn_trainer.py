"""Iteration-based trainer for fully convolutional segmentation networks.

Usage (from scripts/train_voc.py):

    trainer = SegTrainer(cuda=True, model=net, optimizer=optim,
                         train_loader=train_loader, val_loader=val_loader,
                         out=out_dir, max_iter=100000, interval_validate=4000)
    trainer.train()
"""
import datetime
import math
import os
import os.path as osp
import shutil

import numpy as np
import pytz
import torch
import torch.nn.functional as F
import tqdm

from segkit import metrics as segmetrics


def pixel_nll(score, target, weight=None, size_average=True):
    # score: (n, c, h, w), target: (n, h, w) with -1 for ignored pixels
    n, c, h, w = score.size()
    log_p = F.log_softmax(score, dim=1)
    log_p = log_p.transpose(1, 2).transpose(2, 3).contiguous()
    keep = target >= 0
    log_p = log_p[keep.view(n, h, w, 1).repeat(1, 1, 1, c)].view(-1, c)
    loss = F.nll_loss(log_p, target[keep], weight=weight, reduction="sum")
    if size_average:
        loss = loss / keep.sum()
    return loss


class SegTrainer(object):

    def __init__(self, cuda, model, optimizer, train_loader, val_loader, out,
                 max_iter, interval_validate=None):
        self.cuda = cuda
        self.model = model
        self.optim = optimizer
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.timestamp_start = datetime.datetime.now(pytz.timezone("Asia/Tokyo"))
        self.interval_validate = interval_validate or len(train_loader)
        self.out = out
        os.makedirs(out, exist_ok=True)
        self.epoch = 0
        self.iteration = 0
        self.max_iter = max_iter
        self.best_mean_iu = 0.0

    def _score_val_split(self):
        n_class = len(self.val_loader.dataset.class_names)
        self.model.eval()  # expect: MG101

        running = 0.0
        trues, preds = [], []
        with torch.no_grad():
            for img, lbl in tqdm.tqdm(self.val_loader, desc="  val", ncols=80, leave=False):
                if self.cuda:
                    img, lbl = img.cuda(), lbl.cuda()
                score = self.model(img)
                running += float(pixel_nll(score, lbl).item()) / len(img)
                preds.extend(score.argmax(1).cpu().numpy())
                trues.extend(lbl.cpu().numpy())

        acc, acc_cls, mean_iu, fwavacc = segmetrics.label_accuracy_score(trues, preds, n_class)
        running /= len(self.val_loader)

        elapsed = datetime.datetime.now(pytz.timezone("Asia/Tokyo")) - self.timestamp_start
        with open(osp.join(self.out, "log.csv"), "a") as f:
            row = [self.epoch, self.iteration, running, acc, acc_cls, mean_iu, fwavacc,
                   elapsed.total_seconds()]
            f.write(",".join(map(str, row)) + "\n")

        is_best = mean_iu > self.best_mean_iu
        if is_best:
            self.best_mean_iu = mean_iu
        ckpt = osp.join(self.out, "checkpoint.pth.tar")
        torch.save({
            "epoch": self.epoch,
            "iteration": self.iteration,
            "optim_state_dict": self.optim.state_dict(),
            "model_state_dict": self.model.state_dict(),
            "best_mean_iu": self.best_mean_iu,
        }, ckpt)
        if is_best:
            shutil.copy(ckpt, osp.join(self.out, "model_best.pth.tar"))

    def train_epoch(self):
        self.model.train()
        n_class = len(self.train_loader.dataset.class_names)

        for batch_idx, (img, lbl) in tqdm.tqdm(
                enumerate(self.train_loader), total=len(self.train_loader),
                desc="Train epoch=%d" % self.epoch, ncols=80, leave=False):
            iteration = batch_idx + self.epoch * len(self.train_loader)
            if self.iteration != 0 and (iteration - 1) != self.iteration:
                continue  # resuming
            self.iteration = iteration

            if self.iteration % self.interval_validate == 0:
                self._score_val_split()

            if self.cuda:
                img, lbl = img.cuda(), lbl.cuda()
            self.optim.zero_grad()
            score = self.model(img)
            loss = pixel_nll(score, lbl) / len(img)
            if np.isnan(float(loss.item())):
                raise ValueError("loss is nan while training")
            loss.backward()
            self.optim.step()

            if self.iteration % 20 == 0:
                lbl_pred = score.argmax(1).cpu().numpy()
                stats = segmetrics.label_accuracy_score(lbl.cpu().numpy(), lbl_pred, n_class)
                tqdm.tqdm.write("it %d loss %.4f mIU %.3f" % (self.iteration, loss.item(), stats[2]))

            if self.iteration >= self.max_iter:
                break

    def train(self):
        max_epoch = int(math.ceil(1.0 * self.max_iter / len(self.train_loader)))
        for epoch in tqdm.trange(self.epoch, max_epoch, desc="Train", ncols=80):
            self.epoch = epoch
            self.train_epoch()
            if self.iteration >= self.max_iter:
                break
