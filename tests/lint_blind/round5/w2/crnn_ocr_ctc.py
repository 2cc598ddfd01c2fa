"""CRNN + CTC text-line recogniser, trainer class."""
import logging
from dataclasses import dataclass

import torch
import torch.nn as nn

from ocr.datasets import LmdbTextLines, AlignCollate
from ocr.charset import Charset

log = logging.getLogger(__name__)


def conv_bn(cin, cout, pool=None):
    layers = [nn.Conv2d(cin, cout, 3, 1, 1), nn.BatchNorm2d(cout), nn.ReLU(True)]
    if pool is not None:
        layers.append(nn.MaxPool2d(*pool))
    return layers


class CRNN(nn.Module):
    def __init__(self, n_classes, img_h=32, hidden=256):
        super().__init__()
        assert img_h == 32
        self.cnn = nn.Sequential(
            *conv_bn(1, 64, ((2, 2), (2, 2))),
            *conv_bn(64, 128, ((2, 2), (2, 2))),
            *conv_bn(128, 256), *conv_bn(256, 256, ((2, 1), (2, 1))),
            *conv_bn(256, 512), *conv_bn(512, 512, ((2, 1), (2, 1))),
            nn.Conv2d(512, 512, 2, 1, 0), nn.ReLU(True))
        self.rnn = nn.LSTM(512, hidden, num_layers=2, bidirectional=True, dropout=0.3)
        self.fc = nn.Linear(hidden * 2, n_classes)

    def forward(self, x):
        f = self.cnn(x).squeeze(2).permute(2, 0, 1)  # T x B x C
        out, _ = self.rnn(f)
        return self.fc(out).log_softmax(2)


@dataclass
class OCRConfig:
    lmdb_train: str = "data/synth90k.lmdb"
    batch_size: int = 128
    lr: float = 1e-3
    epochs: int = 5
    preview_every: int = 1000
    grad_clip: float = 5.0


class OCRTrainer:
    def __init__(self, cfg: OCRConfig, charset: Charset, device="cuda"):
        self.cfg = cfg
        self.charset = charset
        self.device = device
        self.net = CRNN(len(charset) + 1).to(device)
        self.ctc = nn.CTCLoss(blank=0, zero_infinity=True)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=cfg.lr)
        self.loader = torch.utils.data.DataLoader(
            LmdbTextLines(cfg.lmdb_train), batch_size=cfg.batch_size, shuffle=True,
            num_workers=8, collate_fn=AlignCollate(img_h=32, img_w=100))
        self.global_step = 0

    def _greedy_decode(self, log_probs):
        best = log_probs.argmax(2).transpose(0, 1).tolist()
        words = []
        for seq in best:
            chars, prev = [], 0
            for idx in seq:
                if idx != prev and idx != 0:
                    chars.append(self.charset.decode(idx))
                prev = idx
            words.append("".join(chars))
        return words

    def _preview_predictions(self, images, texts):
        self.net.eval()  # expect: MG101
        with torch.no_grad():
            preds = self._greedy_decode(self.net(images))
        for gt, pr in zip(texts, preds):
            log.info("step %d | gt=%-20s pred=%s", self.global_step, gt, pr)

    def train_epoch(self, epoch):
        self.net.train()
        for images, texts in self.loader:
            images = images.to(self.device)
            targets, lengths = self.charset.encode(texts)
            log_probs = self.net(images)
            t_len = torch.full((images.size(0),), log_probs.size(0), dtype=torch.long)
            loss = self.ctc(log_probs, targets, t_len, lengths)

            self.opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(self.net.parameters(), self.cfg.grad_clip)
            self.opt.step()
            self.global_step += 1

            if self.global_step % self.cfg.preview_every == 0:
                log.info("epoch %d step %d ctc %.4f", epoch, self.global_step, loss.item())
                self._preview_predictions(images[:4], texts[:4])

    def fit(self):
        for epoch in range(self.cfg.epochs):
            self.train_epoch(epoch)
            torch.save(self.net.state_dict(), f"crnn_epoch{epoch}.pth")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    OCRTrainer(OCRConfig(), Charset.from_file("charset_36.txt")).fit()
