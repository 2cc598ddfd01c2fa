"""Fine-tune a self-supervised speech encoder with a CTC head on 10h of labelled data.

The convolutional waveform front-end is kept fixed for the whole run (as in the
wav2vec 2.0 fine-tuning recipe); only the context network and the head learn.
"""
import argparse
import logging

import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from speech_ssl.data import LabelledAudio, pad_collate
from speech_ssl.text import CharTokenizer

log = logging.getLogger("ft")


class WaveFrontend(nn.Module):
    def __init__(self, dim=512):
        super().__init__()
        spec = [(10, 5)] + [(3, 2)] * 4 + [(2, 2)] * 2
        layers, c_in = [], 1
        for k, s in spec:
            layers += [nn.Conv1d(c_in, dim, k, stride=s, bias=False), nn.BatchNorm1d(dim), nn.GELU()]
            c_in = dim
        self.net = nn.Sequential(*layers)

    def forward(self, wav):
        return self.net(wav.unsqueeze(1)).transpose(1, 2)


class SpeechEncoder(nn.Module):
    def __init__(self, vocab, dim=768, layers=12):
        super().__init__()
        self.frontend = WaveFrontend()
        self.proj = nn.Linear(512, dim)
        enc_layer = nn.TransformerEncoderLayer(dim, 12, 3072, dropout=0.1, batch_first=True,
                                               norm_first=True)
        self.context = nn.TransformerEncoder(enc_layer, layers)
        self.final_drop = nn.Dropout(0.1)
        self.ctc = nn.Linear(dim, vocab)
        self.frontend_fixed = False

    def fix_frontend(self):
        self.frontend_fixed = True
        for mod in self.frontend.modules():
            if isinstance(mod, nn.BatchNorm1d):
                mod.eval()  # expect: MG301

    def forward(self, wav):
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frontend_fixed):
            feats = self.frontend(wav)
        h = self.context(self.proj(feats))
        return self.ctc(self.final_drop(h)).log_softmax(-1)

    @staticmethod
    def out_lengths(wav_lens):
        for k, s in [(10, 5)] + [(3, 2)] * 4 + [(2, 2)] * 2:
            wav_lens = torch.div(wav_lens - k, s, rounding_mode="floor") + 1
        return wav_lens


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--manifest", default="manifests/ll10h.tsv")
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--lr", type=float, default=5e-5)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO)

    tok = CharTokenizer()
    model = SpeechEncoder(len(tok))
    state = torch.load(args.ckpt, map_location="cpu")
    missing = model.load_state_dict(state, strict=False)
    log.info("missing keys: %s", missing.missing_keys)
    model.fix_frontend()
    model = model.cuda()

    trainable = [p for n, p in model.named_parameters() if not n.startswith("frontend.")]
    opt = torch.optim.AdamW(trainable, lr=args.lr, betas=(0.9, 0.98), weight_decay=0.01)
    ctc = nn.CTCLoss(blank=tok.blank, zero_infinity=True)
    loader = DataLoader(LabelledAudio(args.manifest, tok), batch_size=8, shuffle=True,
                        collate_fn=pad_collate, num_workers=4)

    for epoch in range(args.epochs):
        model.train()
        for step, (wav, wav_lens, labels, label_lens) in enumerate(loader):
            wav = wav.cuda()
            logp = model(wav).transpose(0, 1)
            loss = ctc(logp, labels, model.out_lengths(wav_lens), label_lens)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 5.0)
            opt.step()
            if step % 100 == 0:
                log.info("ep %d step %d ctc %.3f", epoch, step, loss.item())
        torch.save(model.state_dict(), f"ft_ep{epoch}.pt")


if __name__ == "__main__":
    main()
