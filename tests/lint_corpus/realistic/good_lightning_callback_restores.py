"""The callback done right: it puts back the mode it found."""
import lightning.pytorch as pl
import torch


class PredictionWriter(pl.Callback):
    def __init__(self, loader, out_path):
        self.loader = loader
        self.out_path = out_path

    def on_train_epoch_end(self, trainer, pl_module):
        was_training = pl_module.training
        pl_module.eval()
        with torch.no_grad():
            preds = [pl_module(x) for x, _ in self.loader]
        pl_module.train(was_training)
        torch.save(preds, self.out_path)

    def on_validation_epoch_end(self, trainer, pl_module):
        # Lightning runs validation in eval mode and restores the modes afterwards
        pl_module.eval()
