"""CTC fine-tuning of a self-supervised speech encoder on a low-resource language.

With 4 utterances per GPU the normalisation scales of the conv feature encoder
drift quickly, so we keep them at their pretrained values.
"""
import argparse
import math

import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from ssl_speech.models import Wav2VecCTC
from ssl_speech.data import AudioTextDataset, collate_audio
from ssl_speech.metrics import wer


def keep_pretrained_norm_scales(net):
    n = 0
    for _, mod in net.feature_encoder.named_modules():
        if isinstance(mod, nn.BatchNorm1d):
            mod.requires_grad_(False)  # expect: MG302
            n += 1
    return n


def tri_stage(step, total, peak):
    warm, hold = int(0.1 * total), int(0.4 * total)
    if step < warm:
        return peak * step / warm
    if step < warm + hold:
        return peak
    return peak * math.exp(-4.6 * (step - warm - hold) / max(1, total - warm - hold))


@torch.no_grad()
def dev_wer(net, loader, vocab, device):
    net.eval()
    hyps, refs = [], []
    for wav, wav_len, text in loader:
        logits, out_len = net(wav.to(device), wav_len.to(device))
        for row, n in zip(logits.argmax(-1).cpu(), out_len.cpu()):
            hyps.append(vocab.ctc_collapse(row[:n].tolist()))
        refs.extend(text)
    return wer(refs, hyps)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pretrained", required=True)
    ap.add_argument("--train", required=True)
    ap.add_argument("--dev", required=True)
    ap.add_argument("--steps", type=int, default=20000)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--bs", type=int, default=4)
    args = ap.parse_args()

    device = torch.device("cuda")
    net = Wav2VecCTC.from_pretrained(args.pretrained, final_dropout=0.1, layerdrop=0.05).to(device)
    print("frozen norm layers:", keep_pretrained_norm_scales(net))

    train_set = AudioTextDataset(args.train)
    vocab = train_set.vocab
    train_dl = DataLoader(train_set, batch_size=args.bs, shuffle=True, collate_fn=collate_audio, drop_last=True)
    dev_dl = DataLoader(AudioTextDataset(args.dev, vocab=vocab), batch_size=8, collate_fn=collate_audio)

    opt = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad], lr=args.lr)
    ctc = nn.CTCLoss(blank=vocab.blank, zero_infinity=True)
    step = 0
    while step < args.steps:
        net.train()
        for wav, wav_len, text in train_dl:
            for g in opt.param_groups:
                g["lr"] = tri_stage(step, args.steps, args.lr)
            targets, tgt_len = vocab.encode_batch(text)
            logits, out_len = net(wav.to(device), wav_len.to(device))
            loss = ctc(logits.log_softmax(-1).transpose(0, 1), targets.to(device), out_len, tgt_len.to(device))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 10.0)
            opt.step()
            step += 1
            if step >= args.steps:
                break
        print(f"step {step}: dev WER {dev_wer(net, dev_dl, vocab, device):.2%}")


if __name__ == "__main__":
    main()
