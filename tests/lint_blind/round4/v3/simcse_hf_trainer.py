"""Unsupervised SimCSE with the Hugging Face Trainer.

Two forward passes of the same batch differ only by dropout noise; the Trainer
switches the model between train and eval mode for training / evaluation itself.
"""
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from datasets import load_dataset
from scipy.stats import spearmanr
from transformers import (AutoModel, AutoTokenizer, HfArgumentParser, Trainer,
                          TrainingArguments)


@dataclass
class ModelArgs:
    model_name: str = field(default="bert-base-uncased")
    temperature: float = field(default=0.05)
    max_len: int = field(default=32)


class SimCSETrainer(Trainer):
    def __init__(self, *args, temperature=0.05, **kwargs):
        super().__init__(*args, **kwargs)
        self.temperature = temperature

    def compute_loss(self, model, inputs, return_outputs=False, **kwargs):
        inputs.pop("labels", None)
        doubled = {k: torch.cat([v, v]) for k, v in inputs.items()}
        cls = model(**doubled).last_hidden_state[:, 0]
        a, b = cls.chunk(2)
        sim = F.cosine_similarity(a[:, None], b[None], dim=-1) / self.temperature
        target = torch.arange(sim.size(0), device=sim.device)
        loss = F.cross_entropy(sim, target)
        return (loss, {"sim": sim}) if return_outputs else loss


def encode(model, tok, sentences, device, bs=128, max_len=32):
    model.eval()
    chunks = []
    with torch.no_grad():
        for i in range(0, len(sentences), bs):
            enc = tok(sentences[i:i + bs], padding=True, truncation=True, max_length=max_len, return_tensors="pt")
            out = model(**{k: v.to(device) for k, v in enc.items()})
            chunks.append(F.normalize(out.last_hidden_state[:, 0], dim=-1).cpu())
    return torch.cat(chunks)


def stsb_spearman(model, tok, device):
    sts = load_dataset("mteb/stsbenchmark-sts", split="test")
    e1 = encode(model, tok, sts["sentence1"], device)
    e2 = encode(model, tok, sts["sentence2"], device)
    return spearmanr((e1 * e2).sum(-1).numpy(), np.array(sts["score"])).correlation


def main():
    margs, targs = HfArgumentParser((ModelArgs, TrainingArguments)).parse_args_into_dataclasses()
    tok = AutoTokenizer.from_pretrained(margs.model_name)
    model = AutoModel.from_pretrained(margs.model_name)
    model.train()

    wiki = load_dataset("text", data_files={"train": "wiki1m_for_simcse.txt"})["train"]
    wiki = wiki.map(lambda b: tok(b["text"], truncation=True, max_length=margs.max_len, padding="max_length"),
                    batched=True, remove_columns=["text"])
    split = wiki.train_test_split(test_size=0.005, seed=42)

    trainer = SimCSETrainer(model=model, args=targs, train_dataset=split["train"], eval_dataset=split["test"],
                            temperature=margs.temperature)
    trainer.train()
    metrics = trainer.evaluate()
    print("held-out contrastive loss:", metrics.get("eval_loss"))

    score = stsb_spearman(trainer.model, tok, targs.device)
    print(f"STS-B test spearman: {score:.4f}")
    trainer.save_model(targs.output_dir)


if __name__ == "__main__":
    main()
