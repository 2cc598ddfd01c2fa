"""Lightning module for sentence-level sentiment classification on top of a HF encoder."""
import argparse

import lightning.pytorch as pl
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from transformers import AutoModel, AutoTokenizer

from sentiment_data import ReviewsDataset


class SentimentModule(pl.LightningModule):
    def __init__(self, encoder_name="roberta-base", n_labels=3, lr=2e-5, head_dropout=0.1):
        super().__init__()
        self.save_hyperparameters()
        self.encoder = AutoModel.from_pretrained(encoder_name)
        self.dropout = nn.Dropout(head_dropout)
        self.classifier = nn.Linear(self.encoder.config.hidden_size, n_labels)

    def on_fit_start(self):
        # from_pretrained hands back an encoder in eval mode; Lightning keeps submodule modes
        self.encoder.train()

    def forward(self, input_ids, attention_mask):
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.classifier(self.dropout(hidden[:, 0]))

    def training_step(self, batch, batch_idx):
        logits = self(batch["input_ids"], batch["attention_mask"])
        loss = F.cross_entropy(logits, batch["label"])
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        logits = self(batch["input_ids"], batch["attention_mask"])
        self.log("val/loss", F.cross_entropy(logits, batch["label"]), sync_dist=True)
        self.log("val/acc", (logits.argmax(-1) == batch["label"]).float().mean(), sync_dist=True)

    def test_step(self, batch, batch_idx):
        logits = self(batch["input_ids"], batch["attention_mask"])
        self.log("test/acc", (logits.argmax(-1) == batch["label"]).float().mean())

    def predict_step(self, batch, batch_idx, dataloader_idx=0):
        return self(batch["input_ids"], batch["attention_mask"]).softmax(-1)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=0.01)
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=self.hparams.lr, total_steps=self.trainer.estimated_stepping_batches,
            pct_start=0.1)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", required=True)
    ap.add_argument("--encoder", default="roberta-base")
    ap.add_argument("--epochs", type=int, default=3)
    args = ap.parse_args()

    tok = AutoTokenizer.from_pretrained(args.encoder)
    splits = {s: ReviewsDataset(args.csv, s, tok, max_len=128) for s in ("train", "val", "test")}
    loaders = {s: DataLoader(d, batch_size=32, shuffle=(s == "train"), num_workers=4)
               for s, d in splits.items()}

    module = SentimentModule(args.encoder)
    trainer = pl.Trainer(max_epochs=args.epochs, accelerator="auto", precision="16-mixed",
                         val_check_interval=0.25, log_every_n_steps=20)
    trainer.fit(module, loaders["train"], loaders["val"])
    trainer.test(module, loaders["test"])

    probs = torch.cat(trainer.predict(module, loaders["test"]))
    df = pd.DataFrame(probs.numpy(), columns=["neg", "neu", "pos"])
    df = df.eval("polarity = pos - neg")
    df.to_csv("test_predictions.csv", index=False)
    print(df.describe())


if __name__ == "__main__":
    main()
