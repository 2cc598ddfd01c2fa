"""PyTorch Lightning module for a CTC phoneme recogniser on TIMIT."""
import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchmetrics.text import CharErrorRate

from timit import TimitDataModule, PHONES


class BiGRUCTC(nn.Module):
    def __init__(self, n_feats=40, hidden=320, layers=4, n_out=len(PHONES) + 1, dropout=0.25):
        super().__init__()
        self.inp = nn.Sequential(nn.Linear(n_feats * 3, hidden), nn.BatchNorm1d(hidden), nn.ReLU())
        self.gru = nn.GRU(hidden, hidden, num_layers=layers, dropout=dropout,
                          bidirectional=True, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(2 * hidden, n_out)

    def forward(self, x):
        b, t, f = x.shape
        h = self.inp(x.reshape(b * t, f)).reshape(b, t, -1)
        h, _ = self.gru(h)
        return self.fc(self.drop(h))


class PhoneRecognizer(L.LightningModule):
    def __init__(self, lr=1e-3, weight_decay=1e-5, **net_kwargs):
        super().__init__()
        self.save_hyperparameters()
        self.net = BiGRUCTC(**net_kwargs)
        self.per = CharErrorRate()

    def forward(self, feats):
        return self.net(feats).log_softmax(-1)

    def _ctc(self, batch):
        feats, feat_lens, phones, phone_lens = batch
        log_probs = self(feats)
        loss = F.ctc_loss(log_probs.transpose(0, 1), phones, feat_lens, phone_lens,
                          blank=0, zero_infinity=True)
        return loss, log_probs, feat_lens

    def training_step(self, batch, batch_idx):
        loss, _, _ = self._ctc(batch)
        self.log("train/ctc", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        loss, log_probs, lens = self._ctc(batch)
        hyps = self.greedy(log_probs, lens)
        refs = [" ".join(PHONES[i - 1] for i in p[:n].tolist()) for p, n in zip(batch[2], batch[3])]
        self.per.update(hyps, refs)
        self.log("val/ctc", loss, sync_dist=True)

    def on_validation_epoch_end(self):
        self.log("val/per", self.per.compute(), prog_bar=True)
        self.per.reset()

    @staticmethod
    def greedy(log_probs, lens):
        out = []
        for seq, n in zip(log_probs.argmax(-1), lens):
            prev, toks = 0, []
            for t in seq[:n].tolist():
                if t != prev and t != 0:
                    toks.append(PHONES[t - 1])
                prev = t
            out.append(" ".join(toks))
        return out

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr,
                                weight_decay=self.hparams.weight_decay)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "monitor": "val/per"}}


if __name__ == "__main__":
    dm = TimitDataModule("/data/timit", batch_size=32)
    model = PhoneRecognizer()
    trainer = L.Trainer(max_epochs=60, gradient_clip_val=5.0, precision="bf16-mixed",
                        callbacks=[L.pytorch.callbacks.EarlyStopping("val/per", patience=8)])
    trainer.fit(model, datamodule=dm)
    trainer.test(model, datamodule=dm, ckpt_path="best")
