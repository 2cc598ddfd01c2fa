"""Trainer for Tacotron2-lite (teacher-forced mel + gate losses)."""
import os

import torch
import torch.nn as nn
from torch.utils.tensorboard import SummaryWriter

from .model import build_tacotron


class Tacotron2Loss(nn.Module):
    def forward(self, outputs, mel_target, gate_target):
        mel_post, mel, gate, _ = outputs
        mel_loss = nn.functional.mse_loss(mel, mel_target) + nn.functional.mse_loss(mel_post, mel_target)
        gate_loss = nn.functional.binary_cross_entropy_with_logits(gate, gate_target)
        return mel_loss + gate_loss, mel_loss.item(), gate_loss.item()


class Tacotron2Trainer:
    def __init__(self, hparams, train_loader, val_loader, out_dir="runs/taco2", device="cuda"):
        self.hp = hparams
        self.device = device
        self.model = build_tacotron(hparams).to(device)
        self.criterion = Tacotron2Loss()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=hparams["lr"],
                                          weight_decay=hparams.get("weight_decay", 1e-6))
        self.train_loader, self.val_loader = train_loader, val_loader
        self.out_dir = out_dir
        self.writer = SummaryWriter(os.path.join(out_dir, "tb"))
        self.iteration = 0

    def _to_device(self, batch):
        tokens, mels, gates = batch
        return tokens.to(self.device), mels.to(self.device), gates.to(self.device)

    def _validate(self):
        self.model.eval()
        try:
            total, n = 0.0, 0
            with torch.no_grad():
                for batch in self.val_loader:
                    tokens, mels, gates = self._to_device(batch)
                    outputs = self.model(tokens, mels)
                    loss, _, _ = self.criterion(outputs, mels, gates)
                    total += loss.item()
                    n += 1
            self.writer.add_scalar("val/loss", total / max(n, 1), self.iteration)
            self.writer.add_image("val/alignment", outputs[3][0].T.unsqueeze(0), self.iteration)
            return total / max(n, 1)
        finally:
            self.model.train()

    def save(self, tag):
        torch.save({"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                    "iteration": self.iteration, "hparams": self.hp},
                   os.path.join(self.out_dir, f"checkpoint_{tag}.pt"))

    def fit(self, epochs):
        for epoch in range(epochs):
            self.model.train()
            for batch in self.train_loader:
                tokens, mels, gates = self._to_device(batch)
                outputs = self.model(tokens, mels)
                loss, mel_l, gate_l = self.criterion(outputs, mels, gates)
                self.optimizer.zero_grad()
                loss.backward()
                grad_norm = nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
                self.optimizer.step()
                self.iteration += 1

                if self.iteration % 100 == 0:
                    self.writer.add_scalar("train/mel", mel_l, self.iteration)
                    self.writer.add_scalar("train/gate", gate_l, self.iteration)
                    self.writer.add_scalar("train/grad_norm", grad_norm, self.iteration)
                if self.iteration % self.hp["val_interval"] == 0:
                    val = self._validate()
                    print(f"iter {self.iteration}: train {loss.item():.4f} val {val:.4f}")
                    self.save(self.iteration)
