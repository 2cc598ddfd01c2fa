"""A prediction-writing callback that switches the LightningModule to eval and leaves it there."""
import lightning.pytorch as pl
import torch


class PredictionWriter(pl.Callback):
    def __init__(self, loader, out_path):
        self.loader = loader
        self.out_path = out_path

    def on_train_epoch_end(self, trainer, pl_module):
        self._write_predictions(pl_module)

    def _write_predictions(self, pl_module):
        pl_module.eval()  # expect: MG101
        with torch.no_grad():
            preds = [pl_module(x) for x, _ in self.loader]
        torch.save(preds, self.out_path)
