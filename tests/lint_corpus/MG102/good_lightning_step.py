import torch


class LitModel:
    def validation_step(self, batch, batch_idx):
        with torch.no_grad():
            return self.model(batch)
