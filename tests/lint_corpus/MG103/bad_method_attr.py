import torch


class Evaluator:
    def __init__(self, model):
        self.model = model

    def run(self, batch):
        self.model.eval()  # expect: MG103
        with torch.no_grad():
            return self.model(batch)
