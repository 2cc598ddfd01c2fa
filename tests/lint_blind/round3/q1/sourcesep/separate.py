"""Separate full tracks with trained MaskNet checkpoints (one per stem).

    python separate.py --models ckpt/vocals.pth ckpt/drums.pth ... --out sep/ song.wav
"""
import argparse
from pathlib import Path

import soundfile as sf
import torch

from model import load_separator
from trainer import STFT


def wiener_like(mags, mix_spec, eps=1e-10, power=2.0):
    """Soft masks from magnitude estimates of all stems (single iteration)."""
    p = torch.stack([m ** power for m in mags])
    total = p.sum(0) + eps
    return [mix_spec * (pi / total) for pi in p]


def chunked(net, mag, chunk_frames=2048, overlap=256):
    n = mag.shape[-1]
    if n <= chunk_frames:
        return net(mag)
    out = torch.zeros_like(mag)
    weight = torch.zeros(n, device=mag.device)
    start = 0
    while start < n:
        stop = min(start + chunk_frames, n)
        out[..., start:stop] += net(mag[..., start:stop])
        weight[start:stop] += 1
        if stop == n:
            break
        start = stop - overlap
    return out / weight


@torch.inference_mode()
def separate_track(models, stft, wav, device):
    mix = torch.as_tensor(wav.T, dtype=torch.float32, device=device)[None]
    spec = stft(mix)
    mags = [chunked(net, spec.abs()) for net in models.values()]
    specs = wiener_like(mags, spec)
    return {name: stft.inverse(s, mix.shape[-1])[0].cpu().numpy().T
            for name, s in zip(models, specs)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("inputs", nargs="+")
    ap.add_argument("--models", nargs="+", required=True)
    ap.add_argument("--out", default="separated")
    ap.add_argument("--n-fft", type=int, default=4096)
    ap.add_argument("--hop", type=int, default=1024)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()

    models = {}
    for path in args.models:
        net = load_separator(path, device=args.device)
        models[Path(path).stem] = net.eval()
    stft = STFT(args.n_fft, args.hop).to(args.device)

    for track in args.inputs:
        wav, sr = sf.read(track, always_2d=True)
        stems = separate_track(models, stft, wav, args.device)
        dst = Path(args.out) / Path(track).stem
        dst.mkdir(parents=True, exist_ok=True)
        for name, audio in stems.items():
            sf.write(dst / f"{name}.wav", audio, sr)
        print(f"wrote {len(stems)} stems for {track}")


if __name__ == "__main__":
    main()
