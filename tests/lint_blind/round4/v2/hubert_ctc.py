"""HuBERT-style encoder with a CTC head, fine-tuned from a pretrained checkpoint.

The conv feature encoder uses BatchNorm; its pretrained running statistics are kept
fixed (our fine-tuning batches are tiny) while its weights still get updated.
"""
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from asrdata import LibriLight10h, pad_collate, Tokenizer


class FeatureEncoder(nn.Module):
    def __init__(self, dims=(512,) * 7, kernels=(10, 3, 3, 3, 3, 2, 2), strides=(5, 2, 2, 2, 2, 2, 2)):
        super().__init__()
        layers, c_in = [], 1
        for d, k, s in zip(dims, kernels, strides):
            layers += [nn.Conv1d(c_in, d, k, stride=s, bias=False), nn.BatchNorm1d(d), nn.GELU()]
            c_in = d
        self.conv = nn.Sequential(*layers)

    def forward(self, wav):
        return self.conv(wav.unsqueeze(1)).transpose(1, 2)


class HubertCTC(nn.Module):
    def __init__(self, vocab_size, d_model=768, layers=12, heads=12, dropout=0.1, keep_bn_stats=True):
        super().__init__()
        self.feature_encoder = FeatureEncoder()
        self.post_proj = nn.Sequential(nn.LayerNorm(512), nn.Linear(512, d_model), nn.Dropout(dropout))
        block = nn.TransformerEncoderLayer(d_model, heads, 4 * d_model, dropout=dropout,
                                           activation="gelu", batch_first=True)
        self.context = nn.TransformerEncoder(block, layers)
        self.ctc_head = nn.Sequential(nn.Dropout(dropout), nn.Linear(d_model, vocab_size))
        if keep_bn_stats:
            for m in self.feature_encoder.modules():
                if isinstance(m, nn.BatchNorm1d):
                    m.eval()  # expect: MG301

    def forward(self, wav):
        x = self.post_proj(self.feature_encoder(wav))
        return self.ctc_head(self.context(x))

    def output_lengths(self, n_samples):
        for k, s in zip((10, 3, 3, 3, 3, 2, 2), (5, 2, 2, 2, 2, 2, 2)):
            n_samples = torch.div(n_samples - k, s, rounding_mode="floor") + 1
        return n_samples


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--init", required=True)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--lr", type=float, default=3e-5)
    args = ap.parse_args()

    tok = Tokenizer.letters()
    asr = HubertCTC(vocab_size=len(tok))
    missing, _ = asr.load_state_dict(torch.load(args.init, map_location="cpu"), strict=False)
    print("randomly initialised:", missing)
    asr.cuda()

    train_dl = DataLoader(LibriLight10h("train", tok), batch_size=4, shuffle=True, collate_fn=pad_collate)
    dev_dl = DataLoader(LibriLight10h("dev-clean", tok), batch_size=8, collate_fn=pad_collate)
    opt = torch.optim.Adam(asr.parameters(), lr=args.lr, betas=(0.9, 0.98))
    ctc = nn.CTCLoss(blank=tok.blank, zero_infinity=True)

    for epoch in range(args.epochs):
        asr.train()
        for wav, wav_len, tgt, tgt_len in train_dl:
            log_probs = asr(wav.cuda()).log_softmax(-1)
            loss = ctc(log_probs.transpose(0, 1), tgt.cuda(), asr.output_lengths(wav_len.cuda()), tgt_len.cuda())
            opt.zero_grad()
            loss.backward()
            opt.step()

        asr.eval()
        dev_loss, n = 0.0, 0
        with torch.no_grad():
            for wav, wav_len, tgt, tgt_len in dev_dl:
                log_probs = asr(wav.cuda()).log_softmax(-1)
                dev_loss += ctc(log_probs.transpose(0, 1), tgt.cuda(),
                                asr.output_lengths(wav_len.cuda()), tgt_len.cuda()).item()
                n += 1
        print(f"epoch {epoch}: train {loss.item():.3f} dev {dev_loss / n:.3f}")
        torch.save(asr.state_dict(), f"ckpt/hubert_ctc_{epoch}.pt")


if __name__ == "__main__":
    main()
