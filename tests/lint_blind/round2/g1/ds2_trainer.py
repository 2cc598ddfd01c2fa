"""DeepSpeech2-style CTC trainer (conv front-end + bidirectional GRUs)."""
import os
import time

import editdistance
import torch
import torch.nn as nn

from ds2.data import SpectrogramLoader
from ds2.decoder import GreedyDecoder


class MaskedBatchRNN(nn.Module):
    def __init__(self, inp, hid):
        super().__init__()
        self.bn = nn.BatchNorm1d(inp)
        self.rnn = nn.GRU(inp, hid, bidirectional=True, batch_first=True)

    def forward(self, x, lens):
        x = self.bn(x.transpose(1, 2)).transpose(1, 2)
        packed = nn.utils.rnn.pack_padded_sequence(x, lens.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.rnn(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
        return out[..., : out.size(-1) // 2] + out[..., out.size(-1) // 2:]


class DeepSpeech2(nn.Module):
    def __init__(self, n_freq=161, hid=800, n_rnn=5, n_labels=29):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 32, (41, 11), (2, 2), (20, 5)), nn.BatchNorm2d(32), nn.Hardtanh(0, 20),
            nn.Conv2d(32, 32, (21, 11), (2, 1), (10, 5)), nn.BatchNorm2d(32), nn.Hardtanh(0, 20),
        )
        rnn_in = 32 * ((n_freq + 1) // 2 + 1) // 2
        self.rnns = nn.ModuleList([MaskedBatchRNN(rnn_in if i == 0 else hid, hid) for i in range(n_rnn)])
        self.fc = nn.Sequential(nn.LayerNorm(hid), nn.Linear(hid, n_labels, bias=False))

    def forward(self, spec, lens):
        h = self.conv(spec.unsqueeze(1))
        b, c, f, t = h.shape
        h = h.view(b, c * f, t).transpose(1, 2)
        lens = torch.div(lens + 1, 2, rounding_mode="floor")
        for rnn in self.rnns:
            h = rnn(h, lens)
        return self.fc(h), lens


class CTCTrainer:
    def __init__(self, cfg, labels):
        self.cfg = cfg
        self.device = torch.device(cfg.device)
        self.net = DeepSpeech2(n_labels=len(labels)).to(self.device)
        self.opt = torch.optim.SGD(self.net.parameters(), lr=cfg.lr, momentum=0.9, nesterov=True)
        self.ctc = nn.CTCLoss(blank=0, zero_infinity=True)
        self.decoder = GreedyDecoder(labels)
        self.train_loader = SpectrogramLoader(cfg.train_manifest, cfg.batch_size, shuffle=True)
        self.dev_loader = SpectrogramLoader(cfg.dev_manifest, cfg.batch_size)

    def _step(self, spec, spec_lens, targets, target_lens):
        logits, out_lens = self.net(spec.to(self.device), spec_lens.to(self.device))
        logp = logits.log_softmax(-1).transpose(0, 1)
        return self.ctc(logp, targets, out_lens, target_lens), logits, out_lens

    def _validate(self):
        self.net.eval()
        errs = words = 0
        loss_sum = 0.0
        for spec, spec_lens, targets, target_lens, refs in self.dev_loader:
            logits, out_lens = self.net(spec.to(self.device), spec_lens.to(self.device))  # expect: MG401
            logp = logits.log_softmax(-1).transpose(0, 1)
            loss_sum += self.ctc(logp, targets, out_lens, target_lens).item()
            for hyp, ref in zip(self.decoder.decode(logits, out_lens), refs):
                errs += editdistance.eval(hyp.split(), ref.split())
                words += len(ref.split())
        self.net.train()
        return loss_sum / len(self.dev_loader), errs / max(words, 1)

    def fit(self):
        best_wer = float("inf")
        for epoch in range(self.cfg.epochs):
            self.net.train()
            t0 = time.time()
            for i, (spec, spec_lens, targets, target_lens, _) in enumerate(self.train_loader):
                loss, _, _ = self._step(spec, spec_lens, targets, target_lens)
                self.opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(self.net.parameters(), 400)
                self.opt.step()
                if i % self.cfg.log_every == 0:
                    print(f"[{epoch}:{i}] ctc {loss.item():.3f} {time.time() - t0:.0f}s")
            dev_loss, wer = self._validate()
            print(f"epoch {epoch}: dev loss {dev_loss:.3f} WER {wer:.4f}")
            for g in self.opt.param_groups:
                g["lr"] /= self.cfg.anneal
            if wer < best_wer:
                best_wer = wer
                torch.save(self.net.state_dict(), os.path.join(self.cfg.save_dir, "ds2_best.pt"))
