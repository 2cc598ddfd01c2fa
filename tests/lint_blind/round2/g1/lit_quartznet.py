"""QuartzNet-style CTC model as a LightningModule."""
import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchaudio
from torchmetrics.text import WordErrorRate


class SpecAugment(nn.Module):
    def __init__(self, freq_masks=2, freq_width=27, time_masks=2, time_width=0.05):
        super().__init__()
        self.fm = torchaudio.transforms.FrequencyMasking(freq_width)
        self.n_f, self.n_t, self.t_w = freq_masks, time_masks, time_width

    def forward(self, spec):
        if not self.training:
            return spec
        for _ in range(self.n_f):
            spec = self.fm(spec)
        t_mask = torchaudio.transforms.TimeMasking(max(1, int(self.t_w * spec.size(-1))))
        for _ in range(self.n_t):
            spec = t_mask(spec)
        return spec


class TCSBlock(nn.Module):
    """Time-channel separable convolution block repeated R times with a residual."""

    def __init__(self, cin, cout, k, repeat=5, p=0.1):
        super().__init__()
        self.convs = nn.ModuleList()
        self.bns = nn.ModuleList()
        for r in range(repeat):
            c = cin if r == 0 else cout
            self.convs.append(nn.Sequential(nn.Conv1d(c, c, k, padding=k // 2, groups=c), nn.Conv1d(c, cout, 1)))
            self.bns.append(nn.BatchNorm1d(cout))
        self.res = nn.Sequential(nn.Conv1d(cin, cout, 1), nn.BatchNorm1d(cout))
        self.p = p

    def forward(self, x):
        h = x
        for i, (conv, bn) in enumerate(zip(self.convs, self.bns)):
            h = bn(conv(h))
            if i == len(self.convs) - 1:
                h = h + self.res(x)
            h = F.dropout(F.relu(h), p=self.p, training=self.training)
        return h


class LitQuartzNet(L.LightningModule):
    def __init__(self, vocab, n_mels=64, lr=0.01, warmup=1000):
        super().__init__()
        self.save_hyperparameters()
        self.vocab = vocab
        self.featurizer = torchaudio.transforms.MelSpectrogram(16000, n_fft=512, hop_length=160, n_mels=n_mels)
        self.augment = SpecAugment()
        self.prologue = nn.Sequential(nn.Conv1d(n_mels, 256, 33, stride=2, padding=16), nn.BatchNorm1d(256), nn.ReLU())
        self.blocks = nn.Sequential(*[TCSBlock(256 if i == 0 else 256, 256, k) for i, k in enumerate((33, 39, 51, 63, 75))])
        self.epilogue = nn.Sequential(nn.Conv1d(256, 512, 87, padding=86, dilation=2), nn.BatchNorm1d(512), nn.ReLU(),
                                      nn.Conv1d(512, 1024, 1), nn.BatchNorm1d(1024), nn.ReLU())
        self.head = nn.Conv1d(1024, len(vocab) + 1, 1)
        self.wer = WordErrorRate()

    def forward(self, wav):
        spec = (self.featurizer(wav) + 1e-6).log()
        spec = self.augment(spec)
        h = self.epilogue(self.blocks(self.prologue(spec)))
        return self.head(h).transpose(1, 2).log_softmax(-1)

    def _ctc(self, batch):
        wav, wav_lens, tgt, tgt_lens = batch
        logp = self(wav)
        out_lens = torch.div(wav_lens, 320, rounding_mode="floor") + 1
        loss = F.ctc_loss(logp.transpose(0, 1), tgt, out_lens.clamp(max=logp.size(1)), tgt_lens,
                          blank=len(self.vocab), zero_infinity=True)
        return loss, logp, out_lens

    def training_step(self, batch, batch_idx):
        loss, _, _ = self._ctc(batch)
        self.log("train/ctc", loss, prog_bar=True)
        return loss

    def _greedy(self, logp, lens):
        blank = len(self.vocab)
        texts = []
        for seq, n in zip(logp.argmax(-1).tolist(), lens.tolist()):
            prev, chars = blank, []
            for s in seq[:n]:
                if s != blank and s != prev:
                    chars.append(self.vocab[s])
                prev = s
            texts.append("".join(chars))
        return texts

    def validation_step(self, batch, batch_idx):
        loss, logp, lens = self._ctc(batch)
        refs = ["".join(self.vocab[i] for i in t[:n]) for t, n in zip(batch[2].tolist(), batch[3].tolist())]
        self.wer.update(self._greedy(logp, lens), refs)
        self.log("val/ctc", loss, sync_dist=True)

    def on_validation_epoch_end(self):
        self.log("val/wer", self.wer.compute(), prog_bar=True)
        self.wer.reset()

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=1e-3)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, self.hparams.lr, total_steps=self.trainer.estimated_stepping_batches,
                                                    pct_start=0.05)
        return [opt], [{"scheduler": sched, "interval": "step"}]


if __name__ == "__main__":
    from librispeech_dm import LibriSpeechDataModule
    dm = LibriSpeechDataModule("/data/LibriSpeech", batch_size=32)
    model = LitQuartzNet(vocab=list(" abcdefghijklmnopqrstuvwxyz'"))
    trainer = L.Trainer(max_epochs=100, precision="16-mixed", val_check_interval=0.25, gradient_clip_val=1.0)
    trainer.fit(model, dm)
    trainer.validate(model, dm)
