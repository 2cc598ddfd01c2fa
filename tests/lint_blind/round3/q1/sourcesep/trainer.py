"""Trainer for one target stem (vocals / drums / bass / other)."""
import os
import time

import torch
import torch.nn.functional as F
from torch.utils.tensorboard import SummaryWriter

from model import MaskNet
from metrics import si_sdr, batch_sdr_table


class STFT(torch.nn.Module):
    def __init__(self, n_fft=4096, hop=1024):
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)

    def forward(self, wav):  # (B, C, T) -> complex (B, C, F, frames)
        B, C, T = wav.shape
        spec = torch.stft(wav.reshape(B * C, T), self.n_fft, self.hop, window=self.window,
                          return_complex=True, center=True)
        return spec.reshape(B, C, spec.shape[-2], spec.shape[-1])

    def inverse(self, spec, length):
        B, C, Fb, N = spec.shape
        wav = torch.istft(spec.reshape(B * C, Fb, N), self.n_fft, self.hop, window=self.window,
                          length=length)
        return wav.reshape(B, C, -1)


class SeparationTrainer:
    def __init__(self, net: MaskNet, train_loader, valid_loader, cfg, device="cuda"):
        self.net = net.to(device)
        self.stft = STFT(cfg.n_fft, cfg.hop).to(device)
        self.train_loader = train_loader
        self.valid_loader = valid_loader
        self.cfg = cfg
        self.device = device
        self.opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.sched = torch.optim.lr_scheduler.ReduceLROnPlateau(self.opt, factor=0.3, patience=80)
        self.writer = SummaryWriter(os.path.join(cfg.out_dir, "tb"))
        self.step = 0
        # fixed excerpt (mix, target) used for the audio previews in tensorboard
        self.preview = next(iter(valid_loader))

    def _loss(self, mix_wav, tgt_wav):
        est = self.net(self.stft(mix_wav).abs())
        return F.mse_loss(est, self.stft(tgt_wav).abs())

    def _write_previews(self):
        mix, tgt = (t[:2, :, : self.cfg.preview_len].to(self.device) for t in self.preview)
        with torch.no_grad():
            spec = self.stft(mix)
            est_mag = self.net(spec.abs())  # expect: MG102
            est_spec = torch.polar(est_mag, spec.angle())
            est = self.stft.inverse(est_spec, mix.shape[-1])
        score = si_sdr(est, tgt).mean().item()
        self.writer.add_scalar("preview/si_sdr", score, self.step)
        for i in range(est.shape[0]):
            self.writer.add_audio(f"preview/{i}", est[i].mean(0).cpu(), self.step,
                                  sample_rate=self.cfg.sample_rate)

    def valid_epoch(self):
        prev = self.net.training
        self.net.eval()
        losses, sdrs = [], []
        try:
            with torch.no_grad():
                for mix, tgt in self.valid_loader:
                    mix, tgt = mix.to(self.device), tgt.to(self.device)
                    spec = self.stft(mix)
                    est_mag = self.net(spec.abs())
                    losses.append(F.mse_loss(est_mag, self.stft(tgt).abs()).item())
                    est = self.stft.inverse(torch.polar(est_mag, spec.angle()), mix.shape[-1])
                    sdrs.append(si_sdr(est, tgt).mean().item())
        finally:
            self.net.train(prev)
        return sum(losses) / len(losses), batch_sdr_table(sdrs)

    def fit(self, epochs):
        best = float("inf")
        for epoch in range(epochs):
            self.net.train()
            t0 = time.time()
            for mix, tgt in self.train_loader:
                mix, tgt = mix.to(self.device), tgt.to(self.device)
                self.opt.zero_grad()
                loss = self._loss(mix, tgt)
                loss.backward()
                self.opt.step()
                self.step += 1
                if self.step % self.cfg.preview_every == 0:
                    self._write_previews()
                self.writer.add_scalar("train/loss", loss.item(), self.step)

            val_loss, table = self.valid_epoch()
            self.sched.step(val_loss)
            print(f"epoch {epoch} val {val_loss:.5f} sdr {table['median']:.2f} "
                  f"({time.time() - t0:.0f}s)")
            if val_loss < best:
                best = val_loss
                torch.save({"state_dict": self.net.state_dict(), "hparams": self.cfg.model},
                           os.path.join(self.cfg.out_dir, "best.pth"))
