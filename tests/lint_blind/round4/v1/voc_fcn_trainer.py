"""Iteration-based trainer for FCN-style semantic segmentation on PASCAL VOC."""
import datetime
import math
import os
import os.path as osp
import shutil

import numpy as np
import torch
import torch.nn.functional as F
import tqdm

from fcnlib.metrics import confusion_scores
from fcnlib.vis import colorize_label


def pixel_nll(score, target, ignore_index=255):
    """Mean 2D negative log-likelihood over the labelled pixels."""
    log_p = F.log_softmax(score, dim=1)
    return F.nll_loss(log_p, target, ignore_index=ignore_index, reduction="mean")


class FCNTrainer(object):

    def __init__(self, net, optim, train_loader, val_loader, out_dir,
                 max_iter, n_class=21, interval_validate=None, cuda=True):
        self.net = net
        self.optim = optim
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.out_dir = out_dir
        self.max_iter = max_iter
        self.n_class = n_class
        self.cuda = cuda
        self.interval_validate = interval_validate or len(train_loader)
        self.epoch = 0
        self.iteration = 0
        self.best_mean_iu = 0.0
        self.timestamp_start = datetime.datetime.now()
        os.makedirs(out_dir, exist_ok=True)
        self.log_path = osp.join(out_dir, "log.csv")
        with open(self.log_path, "w") as f:
            f.write("epoch,iteration,train_loss,valid_loss,acc,mean_iu,elapsed\n")

    def _log(self, row):
        elapsed = (datetime.datetime.now() - self.timestamp_start).total_seconds()
        with open(self.log_path, "a") as f:
            f.write(",".join(str(v) for v in row + [elapsed]) + "\n")

    def run_validation(self):
        self.net.eval()  # expect: MG101
        total_loss = 0.0
        gts, preds, vis = [], [], []
        with torch.no_grad():
            for bi, (img, lbl) in tqdm.tqdm(enumerate(self.val_loader),
                                            total=len(self.val_loader),
                                            desc="valid it=%d" % self.iteration,
                                            leave=False):
                if self.cuda:
                    img, lbl = img.cuda(), lbl.cuda()
                score = self.net(img)
                loss = pixel_nll(score, lbl)
                if not math.isfinite(loss.item()):
                    raise ValueError("validation loss is nan")
                total_loss += loss.item() / len(img)
                pred = score.argmax(dim=1).cpu().numpy()
                gt = lbl.cpu().numpy()
                gts.extend(list(gt))
                preds.extend(list(pred))
                if len(vis) < 9:
                    vis.append(colorize_label(pred[0], gt[0]))
        total_loss /= len(self.val_loader)
        acc, _, mean_iu, _ = confusion_scores(gts, preds, self.n_class)
        self._log([self.epoch, self.iteration, "", total_loss, acc, mean_iu])

        is_best = mean_iu > self.best_mean_iu
        if is_best:
            self.best_mean_iu = mean_iu
        ckpt = osp.join(self.out_dir, "checkpoint.pth.tar")
        torch.save({
            "epoch": self.epoch,
            "iteration": self.iteration,
            "model_state_dict": self.net.state_dict(),
            "optim_state_dict": self.optim.state_dict(),
            "best_mean_iu": self.best_mean_iu,
        }, ckpt)
        if is_best:
            shutil.copy(ckpt, osp.join(self.out_dir, "model_best.pth.tar"))

    def run_epoch(self):
        self.net.train()
        n_batches = len(self.train_loader)
        for bi, (img, lbl) in tqdm.tqdm(enumerate(self.train_loader), total=n_batches,
                                        desc="train ep=%d" % self.epoch, leave=False):
            it = bi + self.epoch * n_batches
            if self.iteration != 0 and (it - 1) != self.iteration:
                continue  # fast-forward when resuming
            self.iteration = it

            if self.iteration % self.interval_validate == 0:
                self.run_validation()

            if self.cuda:
                img, lbl = img.cuda(), lbl.cuda()
            self.optim.zero_grad()
            score = self.net(img)
            loss = pixel_nll(score, lbl) / len(img)
            if not np.isfinite(loss.item()):
                raise ValueError("training loss is nan")
            loss.backward()
            self.optim.step()

            if self.iteration % 50 == 0:
                self._log([self.epoch, self.iteration, loss.item(), "", "", ""])
            if self.iteration >= self.max_iter:
                break

    def train(self):
        n_epochs = int(math.ceil(1.0 * self.max_iter / len(self.train_loader)))
        for epoch in tqdm.trange(self.epoch, n_epochs, desc="Train", ncols=80):
            self.epoch = epoch
            self.run_epoch()
            if self.iteration >= self.max_iter:
                break
