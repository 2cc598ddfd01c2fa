"""CTC trainer for a conformer ASR model.

The mode is (re)established at the top of every optimisation step, so dev
scoring in the middle of an epoch may switch the model to eval freely.
"""
import logging
import math
import os

import torch
from torch.nn.utils import clip_grad_norm_

from asr.decoding import greedy_ctc_decode
from asr.metrics import word_error_rate
from asr.modeling import build_conformer

logger = logging.getLogger(__name__)


class CTCTrainer:
    def __init__(self, cfg, train_loader, dev_loader, tokenizer):
        self.cfg = cfg
        self.device = torch.device(cfg.device)
        self.acoustic = build_conformer(cfg.model).to(self.device)
        self.optimizer = torch.optim.AdamW(self.acoustic.parameters(), lr=cfg.peak_lr,
                                           betas=(0.9, 0.98), weight_decay=1e-3)
        self.train_loader = train_loader
        self.dev_loader = dev_loader
        self.tokenizer = tokenizer
        self.global_step = 0
        self.best_wer = math.inf

    def _noam(self):
        s = max(self.global_step, 1)
        scale = self.cfg.d_model ** -0.5 * min(s ** -0.5, s * self.cfg.warmup ** -1.5)
        for g in self.optimizer.param_groups:
            g["lr"] = self.cfg.peak_lr * scale / (self.cfg.d_model ** -0.5 * self.cfg.warmup ** -0.5)

    def _dev_pass(self):
        self.acoustic.eval()
        hyps, refs = [], []
        for feats, feat_lens, tokens, tok_lens in self.dev_loader:
            log_probs, out_lens = self.acoustic(feats.to(self.device), feat_lens.to(self.device))
            hyps.extend(self.tokenizer.decode(h) for h in greedy_ctc_decode(log_probs, out_lens))
            refs.extend(self.tokenizer.decode(t[:n].tolist()) for t, n in zip(tokens, tok_lens))
        return word_error_rate(hyps, refs)

    def _optim_step(self, batch):
        self.acoustic.train()
        feats, feat_lens, tokens, tok_lens = (t.to(self.device) for t in batch)
        log_probs, out_lens = self.acoustic(feats, feat_lens)
        loss = torch.nn.functional.ctc_loss(log_probs.transpose(0, 1), tokens, out_lens, tok_lens,
                                            blank=0, zero_infinity=True)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = clip_grad_norm_(self.acoustic.parameters(), self.cfg.clip)
        if torch.isfinite(grad_norm):
            self.optimizer.step()
        self._noam()
        self.global_step += 1
        return loss.item()

    def fit(self):
        for epoch in range(self.cfg.epochs):
            for batch in self.train_loader:
                loss = self._optim_step(batch)
                if self.global_step % self.cfg.log_every == 0:
                    logger.info("epoch %d step %d ctc %.3f", epoch, self.global_step, loss)
                if self.global_step % self.cfg.dev_every == 0:
                    with torch.no_grad():
                        wer = self._dev_pass()
                    logger.info("step %d dev WER %.2f%%", self.global_step, 100 * wer)
                    if wer < self.best_wer:
                        self.best_wer = wer
                        torch.save(self.acoustic.state_dict(),
                                   os.path.join(self.cfg.exp_dir, "best_wer.pt"))
        return self.best_wer
