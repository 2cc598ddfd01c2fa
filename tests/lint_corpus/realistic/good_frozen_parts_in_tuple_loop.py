"""Fine-tuning a text-to-image UNet with a frozen VAE and text encoder, sampling a few images now and then.

The frozen parts are put in eval mode once, in a loop over a tuple, and the UNet is switched to eval
for sampling and back to train right after, so no module trains or samples in the wrong mode.
"""
import torch
import torch.nn.functional as F
from diffusers import AutoencoderKL, DDPMScheduler, StableDiffusionPipeline, UNet2DConditionModel
from transformers import CLIPTextModel, CLIPTokenizer

BASE = "runwayml/stable-diffusion-v1-5"

tokenizer = CLIPTokenizer.from_pretrained(BASE, subfolder="tokenizer")
text_encoder = CLIPTextModel.from_pretrained(BASE, subfolder="text_encoder")
vae = AutoencoderKL.from_pretrained(BASE, subfolder="vae")
unet = UNet2DConditionModel.from_pretrained(BASE, subfolder="unet")
scheduler = DDPMScheduler.from_pretrained(BASE, subfolder="scheduler")

for part in (vae, text_encoder):
    part.requires_grad_(False)
    part.eval()

optimizer = torch.optim.AdamW(unet.parameters(), lr=1e-5, weight_decay=1e-2)


def training_loss(batch):
    with torch.no_grad():
        latents = vae.encode(batch["pixel_values"]).latent_dist.sample() * vae.config.scaling_factor
        cond = text_encoder(batch["input_ids"])[0]
    noise = torch.randn_like(latents)
    t = torch.randint(0, scheduler.config.num_train_timesteps, (latents.shape[0],), device=latents.device)
    noisy = scheduler.add_noise(latents, noise, t)
    pred = unet(noisy, t, encoder_hidden_states=cond).sample
    return F.mse_loss(pred.float(), noise.float())


def sample_images(prompts, step):
    unet.eval()
    pipe = StableDiffusionPipeline.from_pretrained(
        BASE, unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, safety_checker=None
    )
    with torch.no_grad():
        images = pipe(prompts, num_inference_steps=30).images
    for i, img in enumerate(images):
        img.save(f"samples/step{step:06d}_{i}.png")
    unet.train()


def main(train_loader, epochs=10, sample_every=1000):
    step = 0
    unet.train()
    for _ in range(epochs):
        for batch in train_loader:
            loss = training_loss(batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            if step % sample_every == 0:
                sample_images(["a watercolor fox in the snow", "a lighthouse at dusk"], step)
    unet.save_pretrained("unet-finetuned")
