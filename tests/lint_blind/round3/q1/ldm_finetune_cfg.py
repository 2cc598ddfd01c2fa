"""Fine-tune a latent-diffusion UNet on captioned pathology tiles (diffusers + accelerate).

The VAE and the text encoder stay frozen; captions are dropped 10% of the time so the
model keeps an unconditional branch for classifier-free guidance.
"""
import argparse
import math
import os

import torch
import torch.nn.functional as F
from accelerate import Accelerator
from diffusers import AutoencoderKL, DDPMScheduler, StableDiffusionPipeline, UNet2DConditionModel
from transformers import CLIPTextModel, CLIPTokenizer

from tile_captions import CaptionedTiles


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--base", default="stabilityai/stable-diffusion-2-1-base")
    p.add_argument("--data", required=True)
    p.add_argument("--out", default="ldm-pathology")
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--bs", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-5)
    p.add_argument("--p_uncond", type=float, default=0.1)
    p.add_argument("--val_every", type=int, default=1000)
    p.add_argument("--val_prompts", nargs="+", default=["H&E stained tile, tumour infiltrating lymphocytes"])
    return p.parse_args()


def main():
    args = parse()
    acc = Accelerator(mixed_precision="bf16", gradient_accumulation_steps=2)
    tok = CLIPTokenizer.from_pretrained(args.base, subfolder="tokenizer")
    text_encoder = CLIPTextModel.from_pretrained(args.base, subfolder="text_encoder")
    vae = AutoencoderKL.from_pretrained(args.base, subfolder="vae")
    unet = UNet2DConditionModel.from_pretrained(args.base, subfolder="unet")
    noise_sched = DDPMScheduler.from_pretrained(args.base, subfolder="scheduler")

    # frozen parts: inference mode for good, and no grads
    for frozen in (vae, text_encoder):
        frozen.requires_grad_(False)
        frozen.eval()
    unet.enable_gradient_checkpointing()

    opt = torch.optim.AdamW(unet.parameters(), lr=args.lr, weight_decay=1e-2)
    loader = torch.utils.data.DataLoader(CaptionedTiles(args.data, tok, size=512), batch_size=args.bs,
                                         shuffle=True, num_workers=8, drop_last=True)
    unet, opt, loader = acc.prepare(unet, opt, loader)
    vae.to(acc.device, dtype=torch.bfloat16)
    text_encoder.to(acc.device, dtype=torch.bfloat16)

    with torch.no_grad():
        empty_ids = tok([""], padding="max_length", max_length=tok.model_max_length, return_tensors="pt").input_ids
        empty_emb = text_encoder(empty_ids.to(acc.device))[0]

    step, epochs = 0, math.ceil(args.steps / len(loader))
    unet.train()
    for _ in range(epochs):
        for batch in loader:
            with acc.accumulate(unet):
                with torch.no_grad():
                    latents = vae.encode(batch["pixels"].to(torch.bfloat16)).latent_dist.sample() * vae.config.scaling_factor
                    cond = text_encoder(batch["input_ids"])[0]
                drop = torch.rand(cond.shape[0], device=cond.device) < args.p_uncond
                cond = torch.where(drop[:, None, None], empty_emb.expand_as(cond), cond)
                noise = torch.randn_like(latents)
                t = torch.randint(0, noise_sched.config.num_train_timesteps, (latents.shape[0],), device=latents.device)
                pred = unet(noise_sched.add_noise(latents, noise, t), t, cond).sample
                target = noise if noise_sched.config.prediction_type == "epsilon" else noise_sched.get_velocity(latents, noise, t)
                loss = F.mse_loss(pred.float(), target.float())
                acc.backward(loss)
                if acc.sync_gradients:
                    acc.clip_grad_norm_(unet.parameters(), 1.0)
                opt.step()
                opt.zero_grad()
            if acc.sync_gradients:
                step += 1
                if step % args.val_every == 0 and acc.is_main_process:
                    unet.eval()
                    pipe = StableDiffusionPipeline.from_pretrained(
                        args.base, unet=acc.unwrap_model(unet), vae=vae, text_encoder=text_encoder,
                        torch_dtype=torch.bfloat16, safety_checker=None)
                    pipe.set_progress_bar_config(disable=True)
                    g = torch.Generator(acc.device).manual_seed(0)
                    with torch.autocast("cuda", dtype=torch.bfloat16):
                        images = pipe(args.val_prompts, num_inference_steps=30, guidance_scale=5.0, generator=g).images
                    for i, im in enumerate(images):
                        im.save(os.path.join(args.out, f"val_{step:06d}_{i}.png"))
                    del pipe
                    unet.train()
                if step >= args.steps:
                    break
    acc.wait_for_everyone()
    if acc.is_main_process:
        acc.unwrap_model(unet).save_pretrained(os.path.join(args.out, "unet"))


if __name__ == "__main__":
    main()
