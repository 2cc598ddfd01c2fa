"""A solver runs training and cross-validation epochs through one function; the optimizer
step only runs when cross_valid is False, and the cross-validation call passes True."""
import torch


class Solver:
    def __init__(self, model, optimizer, tr_loader, cv_loader, epochs):
        self.model, self.optimizer = model, optimizer
        self.tr_loader, self.cv_loader, self.epochs = tr_loader, cv_loader, epochs

    def train(self):
        for epoch in range(self.epochs):
            self.model.train()
            self._run_one_epoch(epoch)
            self.model.eval()
            with torch.no_grad():
                self._run_one_epoch(epoch, cross_valid=True)

    def _run_one_epoch(self, epoch, cross_valid=False):
        total = 0.0
        loader = self.cv_loader if cross_valid else self.tr_loader
        for noisy, clean in loader:
            loss = (self.model(noisy) - clean).abs().mean()
            if not cross_valid:
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
            total += loss.item()
        return total / len(loader)
