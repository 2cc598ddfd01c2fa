import torch


class PredictionWriter:
    def on_epoch_end(self, trainer, pl_module):
        pl_module.eval()  # expect: MG103
        with torch.no_grad():
            self.preds = pl_module(trainer.batch)
