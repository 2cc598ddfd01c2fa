import os.path as osp
import time
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F

from reid.losses import TripletLoss, CrossEntropyLabelSmooth
from reid.metrics import evaluate_rank
from reid.utils import AverageMeter, save_checkpoint


class ImageReIDEngine(object):
    """Softmax + triplet training for person re-identification."""

    def __init__(self, datamanager, net, optimizer, scheduler=None, use_gpu=True,
                 margin=0.3, label_smooth=True, weight_t=1.0, weight_x=1.0):
        self.dm = datamanager
        self.net = net
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.use_gpu = use_gpu
        self.crit_t = TripletLoss(margin=margin)
        self.crit_x = CrossEntropyLabelSmooth(datamanager.num_train_pids, use_gpu=use_gpu, label_smooth=label_smooth)
        self.weight_t = weight_t
        self.weight_x = weight_x

    def forward_backward(self, imgs, pids):
        if self.use_gpu:
            imgs, pids = imgs.cuda(), pids.cuda()
        logits, feats = self.net(imgs)
        loss_t = self.crit_t(feats, pids)
        loss_x = self.crit_x(logits, pids)
        loss = self.weight_t * loss_t + self.weight_x * loss_x
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        acc = (logits.argmax(1) == pids).float().mean().item()
        return OrderedDict(loss_t=loss_t.item(), loss_x=loss_x.item(), acc=acc)

    def train_one_epoch(self, epoch, print_freq=20):
        meters = {k: AverageMeter() for k in ("loss_t", "loss_x", "acc")}
        self.net.train()
        end = time.time()
        for i, (imgs, pids, _camids) in enumerate(self.dm.train_loader):
            out = self.forward_backward(imgs, pids)
            for k, v in out.items():
                meters[k].update(v, imgs.size(0))
            if (i + 1) % print_freq == 0:
                print("epoch %d [%d/%d] tri %.3f ce %.3f acc %.2f (%.2fs)" % (
                    epoch, i + 1, len(self.dm.train_loader), meters["loss_t"].avg,
                    meters["loss_x"].avg, meters["acc"].avg, time.time() - end))
            end = time.time()
        if self.scheduler is not None:
            self.scheduler.step()

    def _extract(self, loader):
        self.net.eval()
        feats, pids, camids = [], [], []
        for imgs, pid, camid in loader:
            if self.use_gpu:
                imgs = imgs.cuda()
            f = self.net(imgs)  # expect: MG401
            f = f + self.net(torch.flip(imgs, dims=[3]))
            feats.append(F.normalize(f, dim=1).cpu())
            pids.extend(pid.tolist())
            camids.extend(camid.tolist())
        return torch.cat(feats, 0), np.asarray(pids), np.asarray(camids)

    def test(self, ranks=(1, 5, 10)):
        qf, q_pids, q_camids = self._extract(self.dm.query_loader)
        gf, g_pids, g_camids = self._extract(self.dm.gallery_loader)
        distmat = torch.cdist(qf, gf).pow(2).numpy()
        cmc, mAP = evaluate_rank(distmat, q_pids, g_pids, q_camids, g_camids)
        print("mAP %.1f%%" % (100 * mAP) + "".join("  R%d %.1f%%" % (r, 100 * cmc[r - 1]) for r in ranks))
        return cmc[0], mAP

    def run(self, save_dir, max_epoch=120, eval_freq=10, start_eval=0):
        best_r1 = 0.0
        for epoch in range(max_epoch):
            self.train_one_epoch(epoch)
            if (epoch + 1) >= start_eval and (epoch + 1) % eval_freq == 0:
                r1, mAP = self.test()
                is_best = r1 > best_r1
                best_r1 = max(r1, best_r1)
                save_checkpoint({"state_dict": self.net.state_dict(), "epoch": epoch + 1,
                                 "rank1": r1, "mAP": mAP}, is_best, osp.join(save_dir, "model.pth.tar"))
        print("done, best rank-1 %.1f%%" % (100 * best_r1))
