import argparse

import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from lightning.pytorch.loggers import WandbLogger

from textdata import NewsDataModule


class BiGRUClassifier(pl.LightningModule):
    def __init__(self, vocab_size, n_classes, emb=300, hidden=256, p=0.3, lr=2e-3):
        super().__init__()
        self.save_hyperparameters()
        self.embed = nn.Embedding(vocab_size, emb, padding_idx=0)
        self.rnn = nn.GRU(emb, hidden, num_layers=2, dropout=p,
                          batch_first=True, bidirectional=True)
        self.drop = nn.Dropout(p)
        self.cls = nn.Linear(2 * hidden, n_classes)

    def forward(self, ids):
        h, _ = self.rnn(self.embed(ids))
        mask = (ids != 0).unsqueeze(-1).float()
        pooled = (h * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.cls(self.drop(pooled))

    def training_step(self, batch, batch_idx):
        logits = self(batch["ids"])
        loss = F.cross_entropy(logits, batch["label"])
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        logits = self(batch["ids"])
        self.log("val/loss", F.cross_entropy(logits, batch["label"]), sync_dist=True)
        acc = (logits.argmax(-1) == batch["label"]).float().mean()
        self.log("val/acc", acc, prog_bar=True, sync_dist=True)

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=self.hparams.lr, total_steps=self.trainer.estimated_stepping_batches)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


class SamplePredictionTable(Callback):
    """Logs predictions on a fixed set of headlines to wandb while training runs."""

    def __init__(self, samples, vocab, every_n_batches=200):
        self.samples = samples
        self.vocab = vocab
        self.every = every_n_batches

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if (batch_idx + 1) % self.every or not trainer.is_global_zero:
            return
        pl_module.eval()  # expect: MG101
        ids = self.samples["ids"].to(pl_module.device)
        with torch.no_grad():
            probs = pl_module(ids).softmax(-1)
        rows = []
        for text, p in zip(self.samples["text"], probs.cpu()):
            rows.append([text, int(p.argmax()), float(p.max())])
        if isinstance(trainer.logger, WandbLogger):
            trainer.logger.log_table("samples", columns=["text", "pred", "conf"], data=rows,
                                     step=trainer.global_step)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/ag_news")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--devices", type=int, default=1)
    args = ap.parse_args()

    dm = NewsDataModule(args.data, batch_size=128)
    dm.setup("fit")
    model = BiGRUClassifier(vocab_size=len(dm.vocab), n_classes=dm.num_classes)
    table_cb = SamplePredictionTable(dm.sample_batch(32), dm.vocab)
    trainer = pl.Trainer(
        max_epochs=args.epochs,
        devices=args.devices,
        precision="16-mixed",
        logger=WandbLogger(project="news-cls"),
        callbacks=[table_cb, ModelCheckpoint(monitor="val/acc", mode="max")],
        gradient_clip_val=1.0,
    )
    trainer.fit(model, datamodule=dm)


if __name__ == "__main__":
    main()
