"""Synthesize mel spectrograms (and optionally audio with Griffin-Lim) from a trained checkpoint.

    python -m tts_project.synthesize --ckpt runs/taco2/checkpoint_80000.pt --text "Hello there."
"""
import argparse
import os

import numpy as np
import torch
import torchaudio

from .model import build_tacotron
from .text import text_to_ids


def griffin_lim(mel, sr=22050, n_fft=1024, hop=256, n_mels=80):
    inv = torchaudio.transforms.InverseMelScale(n_stft=n_fft // 2 + 1, n_mels=n_mels, sample_rate=sr)
    gl = torchaudio.transforms.GriffinLim(n_fft=n_fft, hop_length=hop, n_iter=60)
    return gl(inv(torch.exp(mel)))


def load(ckpt_path, device):
    ckpt = torch.load(ckpt_path, map_location=device)
    model = build_tacotron(ckpt["hparams"]).to(device)
    model.load_state_dict(ckpt["model"])
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--text", action="append", required=True)
    ap.add_argument("--out-dir", default="synth")
    ap.add_argument("--griffin-lim", action="store_true")
    ap.add_argument("--max-steps", type=int, default=1200)
    args = ap.parse_args()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = load(args.ckpt, device)
    os.makedirs(args.out_dir, exist_ok=True)

    for i, sentence in enumerate(args.text):
        tokens = torch.LongTensor(text_to_ids(sentence)).unsqueeze(0).to(device)
        with torch.no_grad():
            mel_post, _, gate, align = model(tokens, max_steps=args.max_steps)  # expect: MG102
        mel = mel_post[0].cpu()
        np.save(os.path.join(args.out_dir, f"utt{i:03d}.mel.npy"), mel.numpy())
        np.save(os.path.join(args.out_dir, f"utt{i:03d}.align.npy"), align[0].cpu().numpy())
        print(f"{sentence!r}: {mel.shape[0]} frames, stop prob {torch.sigmoid(gate[0, -1]).item():.2f}")
        if args.griffin_lim:
            wav = griffin_lim(mel.T)
            torchaudio.save(os.path.join(args.out_dir, f"utt{i:03d}.wav"), wav.unsqueeze(0), 22050)


if __name__ == "__main__":
    main()
