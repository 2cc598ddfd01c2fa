"""CTC fine-tuning of a self-supervised speech encoder (wav2vec2-style) on a low-resource language."""
import argparse
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from asr_data import build_ctc_loaders, CharTokenizer, wer
from ssl_checkpoints import load_pretrained_encoder


class TimeMasker(nn.Module):
    """wav2vec2-style span masking of the latent frames (replaces them by a learned vector)."""

    def __init__(self, dim, mask_prob=0.065, mask_len=10, channel_prob=0.0):
        super().__init__()
        self.mask_emb = nn.Parameter(torch.empty(dim).uniform_())
        self.mask_prob = mask_prob
        self.mask_len = mask_len
        self.channel_prob = channel_prob

    def forward(self, x):  # B, T, D
        if not self.training:
            self.mask_prob = 0.0  # expect: MG203
        if self.mask_prob <= 0:
            return x
        B, T, D = x.shape
        n_spans = max(1, int(self.mask_prob * T / self.mask_len + torch.rand(1).item()))
        starts = torch.randint(0, max(1, T - self.mask_len), (B, n_spans), device=x.device)
        idx = (starts[..., None] + torch.arange(self.mask_len, device=x.device)).view(B, -1)
        mask = torch.zeros(B, T, dtype=torch.bool, device=x.device).scatter_(1, idx.clamp_max(T - 1), True)
        x = torch.where(mask[..., None], self.mask_emb.to(x.dtype), x)
        if self.channel_prob > 0:
            ch = torch.rand(B, 1, D, device=x.device) < self.channel_prob
            x = x.masked_fill(ch, 0.0)
        return x


class SpeechCTC(nn.Module):
    def __init__(self, feature_encoder, context_encoder, dim, vocab_size, freeze_feature_encoder=True,
                 final_dropout=0.1, **mask_kw):
        super().__init__()
        self.feature_encoder = feature_encoder      # conv stack over raw audio
        self.proj = nn.Linear(feature_encoder.out_dim, dim)
        self.masker = TimeMasker(dim, **mask_kw)
        self.context_encoder = context_encoder      # transformer with dropout / layerdrop
        self.dropout = nn.Dropout(final_dropout)
        self.lm_head = nn.Linear(dim, vocab_size)
        self.freeze_feature_encoder = freeze_feature_encoder
        if freeze_feature_encoder:
            self.feature_encoder.requires_grad_(False)

    def train(self, mode=True):  # expect: MG104
        super().train(mode)
        if self.freeze_feature_encoder:
            self.feature_encoder.eval()

    def forward(self, wav, wav_lens):
        feats = self.feature_encoder(wav)                 # B, T', C
        feat_lens = self.feature_encoder.output_lengths(wav_lens)
        x = self.masker(self.proj(feats))
        x = self.context_encoder(x, lengths=feat_lens)
        return F.log_softmax(self.lm_head(self.dropout(x)), dim=-1), feat_lens


def greedy_decode(log_probs, lens, tok):
    out = []
    for lp, n in zip(log_probs.argmax(-1), lens):
        out.append(tok.decode(torch.unique_consecutive(lp[:n]).tolist()))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pretrained", required=True)
    ap.add_argument("--manifest_dir", required=True)
    ap.add_argument("--max_updates", type=int, default=20000)
    ap.add_argument("--freeze_updates", type=int, default=10000, help="train only the head first")
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--val_every", type=int, default=1000)
    args = ap.parse_args()

    tok = CharTokenizer.from_manifest(args.manifest_dir)
    train_loader, dev_loader = build_ctc_loaders(args.manifest_dir, tok, max_tokens=1_400_000)
    fe, ctx, dim = load_pretrained_encoder(args.pretrained)
    model = SpeechCTC(fe, ctx, dim, len(tok), mask_prob=0.075, channel_prob=0.008).cuda()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr)
    warm = args.max_updates // 10
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: s / warm if s < warm else 0.5 * (1 + math.cos(math.pi * (s - warm) / (args.max_updates - warm))))
    ctc = nn.CTCLoss(blank=tok.blank_id, zero_infinity=True)

    update = 0
    while update < args.max_updates:
        for wav, wav_lens, tgt, tgt_lens in train_loader:
            model.train()
            ctx.requires_grad_(update >= args.freeze_updates)
            lp, lens = model(wav.cuda(), wav_lens.cuda())
            loss = ctc(lp.transpose(0, 1), tgt, lens, tgt_lens)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            update += 1
            if update % args.val_every == 0:
                model.eval()
                hyps, refs = [], []
                with torch.no_grad():
                    for wav, wav_lens, tgt, tgt_lens in dev_loader:
                        lp, lens = model(wav.cuda(), wav_lens.cuda())
                        hyps += greedy_decode(lp, lens, tok)
                        refs += [tok.decode(t[:n].tolist()) for t, n in zip(tgt, tgt_lens)]
                print(f"update {update}: loss {loss.item():.3f} dev WER {wer(hyps, refs):.2%}")
            if update >= args.max_updates:
                break
    torch.save(model.state_dict(), "ctc_finetuned.pt")


if __name__ == "__main__":
    main()
