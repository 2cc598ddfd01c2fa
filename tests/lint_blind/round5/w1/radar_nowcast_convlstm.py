"""Precipitation nowcasting from radar reflectivity sequences (encoder-forecaster ConvLSTM).

10 input frames -> 10 predicted frames at 5-minute steps. Optionally re-uses a pretrained
frame encoder whose BatchNorm statistics are kept fixed.
"""
import argparse

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from radar_io import RadarSequenceDataset, dbz_to_pixel
from verification import csi_scores


class ConvLSTMCell(nn.Module):
    def __init__(self, cin, hid, k=3):
        super().__init__()
        self.hid = hid
        self.gates = nn.Conv2d(cin + hid, 4 * hid, k, padding=k // 2)

    def forward(self, x, state):
        h, c = state
        i, f, o, g = torch.chunk(self.gates(torch.cat([x, h], 1)), 4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c


class FrameEncoder(nn.Module):
    def __init__(self, ch=64):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, ch // 2, 3, 2, 1), nn.BatchNorm2d(ch // 2), nn.LeakyReLU(0.2),
            nn.Conv2d(ch // 2, ch, 3, 2, 1), nn.BatchNorm2d(ch), nn.LeakyReLU(0.2),
        )

    def forward(self, x):
        return self.net(x)


class EncoderForecaster(nn.Module):
    def __init__(self, hid=64, out_len=10, freeze_encoder=False):
        super().__init__()
        self.encoder = FrameEncoder(hid)
        self.enc_cell = ConvLSTMCell(hid, hid)
        self.dec_cell = ConvLSTMCell(hid, hid)
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(hid, hid // 2, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(hid // 2, 1, 4, 2, 1),
        )
        self.out_len = out_len
        self.freeze_encoder = freeze_encoder

    def train(self, mode=True):  # expect: MG104
        super().train(mode)
        if self.freeze_encoder:
            self.encoder.eval()

    def forward(self, seq):  # seq: (B, T, 1, H, W)
        b, t = seq.shape[:2]
        feats = self.encoder(seq.flatten(0, 1)).unflatten(0, (b, t))
        h = c = torch.zeros_like(feats[:, 0])
        for k in range(t):
            h, c = self.enc_cell(feats[:, k], (h, c))
        outs, x = [], h
        for _ in range(self.out_len):
            h, c = self.dec_cell(x, (h, c))
            outs.append(self.decoder(h))
            x = h
        return torch.stack(outs, 1)


def weighted_mse_mae(pred, target):
    thresholds = dbz_to_pixel(np.array([20.0, 30.0, 40.0, 50.0]))
    w = torch.ones_like(target)
    for i, th in enumerate(thresholds):
        w = torch.where(target >= th, torch.full_like(w, 2.0 * (i + 1)), w)
    return (w * (pred - target) ** 2).mean() + (w * (pred - target).abs()).mean()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--encoder-ckpt", default="")
    ap.add_argument("--epochs", type=int, default=30)
    args = ap.parse_args()
    dev = torch.device("cuda")

    model = EncoderForecaster(freeze_encoder=bool(args.encoder_ckpt)).to(dev)
    if args.encoder_ckpt:
        model.encoder.load_state_dict(torch.load(args.encoder_ckpt))
        for p in model.encoder.parameters():
            p.requires_grad_(False)
    tr = torch.utils.data.DataLoader(RadarSequenceDataset(args.data, "train"), batch_size=8,
                                     shuffle=True, num_workers=8, drop_last=True)
    va = torch.utils.data.DataLoader(RadarSequenceDataset(args.data, "valid"), batch_size=8)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=2e-4)

    for epoch in range(args.epochs):
        model.train()
        for inp, tgt in tr:
            pred = model(inp.to(dev))
            loss = weighted_mse_mae(pred, tgt.to(dev))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 50.0)
            opt.step()

        model.eval()
        scores = []
        with torch.no_grad():
            for inp, tgt in va:
                scores.append(csi_scores(model(inp.to(dev)).clamp(0, 1).cpu(), tgt))
        print(epoch, loss.item(), np.mean(scores, axis=0).round(3).tolist())


if __name__ == "__main__":
    main()
