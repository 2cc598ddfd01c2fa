import torch


class Trainer:
    def __init__(self, model, opt):
        self.model = model
        self.opt = opt

    def evaluate(self, batch):
        self.model.eval()  # expect: MG101
        with torch.no_grad():
            return self.model(batch)

    def fit(self, batches):
        self.model.train()
        for i, batch in enumerate(batches):
            loss = self.model(batch).mean()
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            if i % 50 == 0:
                self.evaluate(batch)
