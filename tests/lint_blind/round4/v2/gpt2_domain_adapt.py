"""Continue pre-training GPT-2 on an in-domain corpus (clinical notes).

Effective batch = micro_batch * accum_steps * world_size. Perplexity on the held-out
notes is computed every `eval_every` optimizer steps, in the middle of an epoch.
"""
import math
import os

import fire
import torch
from torch.utils.data import DataLoader
from transformers import GPT2LMHeadModel, GPT2TokenizerFast, get_cosine_schedule_with_warmup

from notes_data import PackedTextDataset


def heldout_perplexity(model, loader, device, max_batches=None):
    was_training = model.training
    model.eval()
    nll, n_tok = 0.0, 0
    try:
        with torch.no_grad():
            for i, ids in enumerate(loader):
                if max_batches is not None and i >= max_batches:
                    break
                ids = ids.to(device)
                out = model(input_ids=ids, labels=ids)
                n = ids.numel() - ids.size(0)  # labels are shifted inside the model
                nll += out.loss.item() * n
                n_tok += n
    finally:
        model.train(was_training)
    return math.exp(nll / max(n_tok, 1))


def run(corpus_dir="data/notes", out_dir="ckpt/gpt2-notes", base="gpt2-medium",
        micro_batch=4, accum_steps=16, lr=5e-5, epochs=2, block=1024, eval_every=200):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    tok = GPT2TokenizerFast.from_pretrained(base)
    model = GPT2LMHeadModel.from_pretrained(base, resid_pdrop=0.1, attn_pdrop=0.1).to(device)
    model.gradient_checkpointing_enable()

    train_ds = PackedTextDataset(os.path.join(corpus_dir, "train"), tok, block)
    val_ds = PackedTextDataset(os.path.join(corpus_dir, "val"), tok, block)
    train_dl = DataLoader(train_ds, batch_size=micro_batch, shuffle=True, drop_last=True)
    val_dl = DataLoader(val_ds, batch_size=micro_batch * 2)

    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01, betas=(0.9, 0.95))
    n_updates = epochs * len(train_dl) // accum_steps
    sched = get_cosine_schedule_with_warmup(opt, num_warmup_steps=100, num_training_steps=n_updates)

    print("start ppl", heldout_perplexity(model, val_dl, device, max_batches=50))
    model.train()
    update = 0
    best = float("inf")
    for epoch in range(epochs):
        for micro, ids in enumerate(train_dl):
            ids = ids.to(device)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device == "cuda"):
                loss = model(input_ids=ids, labels=ids).loss / accum_steps
            loss.backward()
            if (micro + 1) % accum_steps:
                continue
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            update += 1

            if update % eval_every == 0:
                ppl = heldout_perplexity(model, val_dl, device)
                print(f"epoch {epoch} update {update} lr {sched.get_last_lr()[0]:.2e} val_ppl {ppl:.2f}")
                if ppl < best:
                    best = ppl
                    model.save_pretrained(out_dir)
                    tok.save_pretrained(out_dir)


if __name__ == "__main__":
    fire.Fire(run)
