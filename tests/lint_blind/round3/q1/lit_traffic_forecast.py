"""Spatio-temporal traffic speed forecasting (METR-LA) as a LightningModule.

Graph-diffusion GRU encoder/decoder with scheduled sampling.  Lightning switches
the module between train() and eval() around validation/test/predict loops.
"""
import argparse

import lightning as L
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from metr_la import MetrLADataModule, masked_mae, masked_rmse


class DiffusionGRUCell(nn.Module):
    def __init__(self, in_dim, hidden, supports, k=2):
        super().__init__()
        self.supports = supports
        self.k = k
        n_mats = 1 + len(supports) * k
        self.gates = nn.Linear((in_dim + hidden) * n_mats, 2 * hidden)
        self.cand = nn.Linear((in_dim + hidden) * n_mats, hidden)

    def diffuse(self, x):  # x: B, N, F
        outs = [x]
        for A in self.supports:
            h = x
            for _ in range(self.k):
                h = torch.einsum("nm,bmf->bnf", A, h)
                outs.append(h)
        return torch.cat(outs, dim=-1)

    def forward(self, x, h):
        r, u = torch.sigmoid(self.gates(self.diffuse(torch.cat([x, h], -1)))).chunk(2, -1)
        c = torch.tanh(self.cand(self.diffuse(torch.cat([x, r * h], -1))))
        return u * h + (1 - u) * c


class TrafficSeq2Seq(nn.Module):
    def __init__(self, supports, in_dim=2, hidden=64, horizon=12, dropout=0.1):
        super().__init__()
        self.horizon = horizon
        self.input_bn = nn.BatchNorm1d(in_dim)
        self.enc = DiffusionGRUCell(in_dim, hidden, supports)
        self.dec = DiffusionGRUCell(1, hidden, supports)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x, y=None, teacher_p=0.0):  # x: B, T, N, F
        B, T, N, Fdim = x.shape
        x = self.input_bn(x.reshape(-1, Fdim)).reshape(B, T, N, Fdim)
        h = x.new_zeros(B, N, self.out.in_features)
        for t in range(T):
            h = self.enc(x[:, t], h)
        dec_in, preds = x.new_zeros(B, N, 1), []
        for t in range(self.horizon):
            h = self.dec(dec_in, h)
            step = self.out(self.drop(h))
            preds.append(step)
            use_truth = y is not None and self.training and np.random.rand() < teacher_p
            dec_in = y[:, t, :, :1] if use_truth else step
        return torch.stack(preds, 1)


class LitTraffic(L.LightningModule):
    def __init__(self, supports, lr=1e-2, cl_decay=2000, **kw):
        super().__init__()
        self.save_hyperparameters(ignore=["supports"])
        self.net = TrafficSeq2Seq(supports, **kw)

    def teacher_prob(self):
        d = self.hparams.cl_decay
        return d / (d + np.exp(self.global_step / d))

    def training_step(self, batch, batch_idx):
        x, y = batch
        pred = self.net(x, y, teacher_p=self.teacher_prob())
        loss = masked_mae(pred, y[..., :1])
        self.log("train/mae", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        pred = self.net(x)
        self.log("val/mae", masked_mae(pred, y[..., :1]), sync_dist=True)

    def test_step(self, batch, batch_idx):
        x, y = batch
        pred = self.net(x)
        for h in (2, 5, 11):
            self.log(f"test/mae@{h + 1}", masked_mae(pred[:, h], y[:, h, :, :1]))
            self.log(f"test/rmse@{h + 1}", masked_rmse(pred[:, h], y[:, h, :, :1]))

    def predict_step(self, batch, batch_idx, dataloader_idx=0):
        x, _ = batch
        return self.net(x)

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.hparams.lr, eps=1e-3)
        sched = torch.optim.lr_scheduler.MultiStepLR(opt, [20, 30, 40, 50], gamma=0.1)
        return [opt], [sched]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/METR-LA")
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--devices", type=int, default=1)
    args = ap.parse_args()

    dm = MetrLADataModule(args.data, batch_size=64)
    dm.setup()
    model = LitTraffic(dm.supports())
    trainer = L.Trainer(max_epochs=args.epochs, devices=args.devices, gradient_clip_val=5.0,
                        callbacks=[L.pytorch.callbacks.EarlyStopping("val/mae", patience=15)])
    trainer.fit(model, datamodule=dm)
    trainer.test(model, datamodule=dm, ckpt_path="best")
    preds = torch.cat(trainer.predict(model, datamodule=dm, ckpt_path="best"))
    np.save("metr_la_predictions.npy", dm.inverse_transform(preds).cpu().numpy())


if __name__ == "__main__":
    main()
