"""Training loop for the CTR ranker (DLRM).  Usage lives in run_ctr.py."""
import logging
import time

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score, log_loss

logger = logging.getLogger(__name__)


class Trainer:
    """Plain-python trainer (not an nn.Module): `train()` here is the training loop."""

    def __init__(self, model, train_loader, valid_loader, probe_loader=None, lr=1e-3,
                 sparse_lr=0.05, device="cuda", probe_every=5000):
        self.model = model.to(device)
        self.device = device
        self.train_loader = train_loader
        self.valid_loader = valid_loader
        self.probe_loader = probe_loader
        self.probe_every = probe_every
        sparse = [p for n, p in model.named_parameters() if n.startswith("embeddings.")]
        dense = [p for n, p in model.named_parameters() if not n.startswith("embeddings.")]
        self.sparse_opt = torch.optim.SparseAdam(sparse, lr=sparse_lr)
        self.dense_opt = torch.optim.Adam(dense, lr=lr)
        self.global_step = 0

    def _to_device(self, batch):
        dense, idx, offs, label = batch
        return (dense.to(self.device), [i.to(self.device) for i in idx],
                [o.to(self.device) for o in offs], label.float().to(self.device))

    @torch.no_grad()
    def _scores(self, loader, max_batches=None):
        preds, labels = [], []
        for b, batch in enumerate(loader):
            if max_batches is not None and b >= max_batches:
                break
            dense, idx, offs, y = self._to_device(batch)
            preds.append(torch.sigmoid(self.model(dense, idx, offs)).cpu().numpy())
            labels.append(y.cpu().numpy())
        return np.concatenate(preds), np.concatenate(labels)

    def evaluate(self, loader=None):
        self.model.eval()
        p, y = self._scores(loader or self.valid_loader)
        return {"auc": roc_auc_score(y, p), "logloss": log_loss(y, np.clip(p, 1e-7, 1 - 1e-7))}

    def _probe_auc(self):
        was_training = self.model.training
        self.model.eval()
        try:
            p, y = self._scores(self.probe_loader, max_batches=50)
        finally:
            self.model.train(was_training)
        return roc_auc_score(y, p)

    def train(self, epochs=1):
        history = []
        for epoch in range(epochs):
            self.model.train()
            t0, running = time.time(), 0.0
            for batch in self.train_loader:
                dense, idx, offs, y = self._to_device(batch)
                logits = self.model(dense, idx, offs)
                loss = F.binary_cross_entropy_with_logits(logits, y)
                self.sparse_opt.zero_grad()
                self.dense_opt.zero_grad()
                loss.backward()
                self.sparse_opt.step()
                self.dense_opt.step()
                running = 0.98 * running + 0.02 * loss.item()
                self.global_step += 1
                if self.probe_loader is not None and self.global_step % self.probe_every == 0:
                    logger.info("step %d loss %.4f probe-auc %.4f",
                                self.global_step, running, self._probe_auc())
            metrics = self.evaluate()
            metrics["epoch"] = epoch
            metrics["time"] = time.time() - t0
            logger.info("epoch %d: %s", epoch, metrics)
            history.append(metrics)
        return history
