#!/usr/bin/env python3
"""Batch transcription of a folder of wav files with an exported CTC checkpoint.

Usage: transcribe.py --ckpt am.pt --lexicon lm/lexicon.txt --kenlm lm/4gram.bin wavs/ > hyps.txt
"""
import argparse
import ast
import os
import sys

import soundfile as sf
import torch
from torchaudio.models.decoder import ctc_decoder

from asr_models import model_from_config


def read_wav(path, target_sr=16000):
    audio, sr = sf.read(path, dtype="float32")
    if audio.ndim > 1:
        audio = audio.mean(axis=1)
    if sr != target_sr:
        raise ValueError(f"{path}: expected {target_sr} Hz, got {sr}")
    return torch.from_numpy(audio)


def batched(items, n):
    for i in range(0, len(items), n):
        yield items[i:i + n]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("wav_dir")
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--lexicon", default=None)
    ap.add_argument("--kenlm", default=None)
    ap.add_argument("--beam", type=int, default=50)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--override", default="{}", help="dict literal of config overrides")
    args = ap.parse_args()

    ck = torch.load(args.ckpt, map_location="cpu")
    cfg = {**ck["config"], **ast.literal_eval(args.override)}
    am = model_from_config(cfg)
    am.load_state_dict(ck["state_dict"])
    device = "cuda" if torch.cuda.is_available() else "cpu"
    am = am.to(device).eval()

    tokens = ck["tokens"]
    decoder = ctc_decoder(lexicon=args.lexicon, tokens=tokens, lm=args.kenlm, beam_size=args.beam,
                          blank_token="<blank>", sil_token="|", unk_word="<unk>")

    files = sorted(f for f in os.listdir(args.wav_dir) if f.endswith(".wav"))
    with torch.inference_mode():
        for group in batched(files, args.batch):
            wavs = [read_wav(os.path.join(args.wav_dir, f)) for f in group]
            lens = torch.tensor([w.numel() for w in wavs])
            x = torch.nn.utils.rnn.pad_sequence(wavs, batch_first=True).to(device)
            emissions, out_lens = am(x, lens.to(device))
            results = decoder(emissions.float().cpu(), out_lens.cpu())
            for name, hyps in zip(group, results):
                words = " ".join(hyps[0].words) if hyps else ""
                sys.stdout.write(f"{os.path.splitext(name)[0]}\t{words}\n")


if __name__ == "__main__":
    main()
