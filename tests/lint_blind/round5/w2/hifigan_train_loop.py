"""HiFi-GAN style vocoder training loop (generator + MPD/MSD discriminators)."""
import argparse
import itertools
import os

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter

from vocoder.audio import mel_spectrogram
from vocoder.data import MelAudioDataset
from vocoder.losses import discriminator_loss, feature_loss, generator_loss
from vocoder.models import Generator, MultiPeriodDiscriminator, MultiScaleDiscriminator


def log_validation(generator, val_loader, writer, step, device, max_items=4):
    """Synthesise a few validation utterances and log mel L1 + audio."""
    was_training = generator.training
    generator.eval()
    try:
        total, count = 0.0, 0
        with torch.no_grad():
            for i, (mel, wav) in enumerate(val_loader):
                mel, wav = mel.to(device), wav.to(device)
                fake = generator(mel)
                fake_mel = mel_spectrogram(fake.squeeze(1))
                total += F.l1_loss(fake_mel, mel[..., :fake_mel.size(-1)]).item()
                count += 1
                if i < max_items:
                    writer.add_audio(f"val/gen_{i}", fake[0], step, sample_rate=22050)
        writer.add_scalar("val/mel_l1", total / max(count, 1), step)
    finally:
        generator.train(was_training)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train-list", default="filelists/train.txt")
    ap.add_argument("--val-list", default="filelists/val.txt")
    ap.add_argument("--ckpt-dir", default="ckpt/hifigan")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--val-interval", type=int, default=1000)
    ap.add_argument("--max-steps", type=int, default=500_000)
    args = ap.parse_args()

    device = torch.device("cuda")
    gen = Generator().to(device)
    mpd = MultiPeriodDiscriminator().to(device)
    msd = MultiScaleDiscriminator().to(device)
    opt_g = torch.optim.AdamW(gen.parameters(), 2e-4, betas=(0.8, 0.99))
    opt_d = torch.optim.AdamW(itertools.chain(mpd.parameters(), msd.parameters()), 2e-4, betas=(0.8, 0.99))
    sched_g = torch.optim.lr_scheduler.ExponentialLR(opt_g, gamma=0.999)
    sched_d = torch.optim.lr_scheduler.ExponentialLR(opt_d, gamma=0.999)

    train_loader = DataLoader(MelAudioDataset(args.train_list, segment=8192), batch_size=args.batch_size,
                              shuffle=True, num_workers=4, drop_last=True, pin_memory=True)
    val_loader = DataLoader(MelAudioDataset(args.val_list, segment=None), batch_size=1)
    writer = SummaryWriter(os.path.join(args.ckpt_dir, "logs"))

    step = 0
    gen.train(); mpd.train(); msd.train()
    while step < args.max_steps:
        for mel, wav in train_loader:
            mel, wav = mel.to(device), wav.to(device).unsqueeze(1)
            fake = gen(mel)
            fake_mel = mel_spectrogram(fake.squeeze(1))

            opt_d.zero_grad()
            r_p, f_p, _, _ = mpd(wav, fake.detach())
            r_s, f_s, _, _ = msd(wav, fake.detach())
            loss_d = discriminator_loss(r_p, f_p)[0] + discriminator_loss(r_s, f_s)[0]
            loss_d.backward()
            opt_d.step()

            opt_g.zero_grad()
            _, f_p, fm_r_p, fm_f_p = mpd(wav, fake)
            _, f_s, fm_r_s, fm_f_s = msd(wav, fake)
            loss_mel = F.l1_loss(fake_mel, mel) * 45
            loss_g = (generator_loss(f_p)[0] + generator_loss(f_s)[0]
                      + feature_loss(fm_r_p, fm_f_p) + feature_loss(fm_r_s, fm_f_s) + loss_mel)
            loss_g.backward()
            opt_g.step()
            step += 1

            if step % 100 == 0:
                writer.add_scalar("train/loss_g", loss_g.item(), step)
                writer.add_scalar("train/loss_d", loss_d.item(), step)
            if step % args.val_interval == 0:
                log_validation(gen, val_loader, writer, step, device)
                torch.save({"gen": gen.state_dict(), "step": step},
                           os.path.join(args.ckpt_dir, f"g_{step:08d}.pt"))
            if step >= args.max_steps:
                break
        sched_g.step()
        sched_d.step()


if __name__ == "__main__":
    main()
