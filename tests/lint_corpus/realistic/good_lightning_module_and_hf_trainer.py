"""Framework-managed modes: a LightningModule and a Hugging Face Trainer."""
import lightning as L
import pandas as pd
import torch
import torch.nn as nn
from transformers import Trainer, TrainingArguments


class LitClassifier(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(32, 64), nn.Dropout(0.2), nn.Linear(64, 2))

    def training_step(self, batch, batch_idx):
        x, y = batch
        return nn.functional.cross_entropy(self.net(x), y)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", nn.functional.cross_entropy(self.net(x), y))

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


def fine_tune(model, train_ds, eval_ds):
    trainer = Trainer(model=model, args=TrainingArguments("out"), train_dataset=train_ds,
                      eval_dataset=eval_ds)
    trainer.train()
    metrics = trainer.evaluate()
    frame = pd.DataFrame([metrics])
    frame = frame.eval("ratio = eval_loss / train_loss")
    return frame
