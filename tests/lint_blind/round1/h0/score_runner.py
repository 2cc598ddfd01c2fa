import logging
import os

import numpy as np
import torch
import torch.optim as optim
from torch.utils.data import DataLoader
from torchvision import transforms
from torchvision.datasets import CIFAR10

from models.refinenet import CondRefineNetDilated
from losses.dsm import anneal_dsm_score_estimation

__all__ = ["AnnealRunner"]


class AnnealRunner:
    def __init__(self, args, config):
        self.args = args
        self.config = config

    def get_optimizer(self, parameters):
        opt_cfg = self.config.optim
        if opt_cfg.optimizer == "Adam":
            return optim.Adam(parameters, lr=opt_cfg.lr, weight_decay=opt_cfg.weight_decay,
                              betas=(opt_cfg.beta1, 0.999), amsgrad=opt_cfg.amsgrad)
        if opt_cfg.optimizer == "RMSProp":
            return optim.RMSprop(parameters, lr=opt_cfg.lr, weight_decay=opt_cfg.weight_decay)
        if opt_cfg.optimizer == "SGD":
            return optim.SGD(parameters, lr=opt_cfg.lr, momentum=0.9)
        raise NotImplementedError(f"optimizer {opt_cfg.optimizer} not understood")

    def _loaders(self):
        tfm = transforms.Compose([
            transforms.Resize(self.config.data.image_size),
            transforms.ToTensor(),
        ])
        root = os.path.join(self.args.run, "datasets", "cifar10")
        train_set = CIFAR10(root, train=True, download=True, transform=tfm)
        test_set = CIFAR10(root + "_test", train=False, download=True, transform=tfm)
        bs = self.config.training.batch_size
        return (DataLoader(train_set, batch_size=bs, shuffle=True, num_workers=4),
                DataLoader(test_set, batch_size=bs, shuffle=True, num_workers=4, drop_last=True))

    def train(self):
        dataloader, test_loader = self._loaders()
        test_iter = iter(test_loader)
        device = self.config.device

        score = CondRefineNetDilated(self.config).to(device)
        score = torch.nn.DataParallel(score)
        optimizer = self.get_optimizer(score.parameters())

        if self.args.resume_training:
            states = torch.load(os.path.join(self.args.log, "checkpoint.pth"))
            score.load_state_dict(states[0])
            optimizer.load_state_dict(states[1])

        sigmas = torch.tensor(
            np.exp(np.linspace(np.log(self.config.model.sigma_begin),
                               np.log(self.config.model.sigma_end),
                               self.config.model.num_classes))
        ).float().to(device)

        step = 0
        score.train()
        for epoch in range(self.config.training.n_epochs):
            for i, (X, _) in enumerate(dataloader):
                step += 1
                X = X.to(device)
                X = X / 256.0 * 255.0 + torch.rand_like(X) / 256.0
                labels = torch.randint(0, len(sigmas), (X.shape[0],), device=X.device)
                loss = anneal_dsm_score_estimation(score, X, labels, sigmas,
                                                   self.config.training.anneal_power)

                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                logging.info("step: %d, loss: %.5f", step, loss.item())

                if step >= self.config.training.n_iters:
                    return 0

                if step % 100 == 0:
                    score.train(False)  # expect: MG101
                    try:
                        test_X, _ = next(test_iter)
                    except StopIteration:
                        test_iter = iter(test_loader)
                        test_X, _ = next(test_iter)
                    test_X = test_X.to(device)
                    test_X = test_X / 256.0 * 255.0 + torch.rand_like(test_X) / 256.0
                    test_labels = torch.randint(0, len(sigmas), (test_X.shape[0],), device=device)
                    with torch.no_grad():
                        test_dsm = anneal_dsm_score_estimation(score, test_X, test_labels, sigmas,
                                                               self.config.training.anneal_power)
                    logging.info("step: %d, test_dsm_loss: %.5f", step, test_dsm.item())

                if step % self.config.training.snapshot_freq == 0:
                    torch.save([score.state_dict(), optimizer.state_dict()],
                               os.path.join(self.args.log, f"checkpoint_{step}.pth"))
                    torch.save([score.state_dict(), optimizer.state_dict()],
                               os.path.join(self.args.log, "checkpoint.pth"))
        return 0
