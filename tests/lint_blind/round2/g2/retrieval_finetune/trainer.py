"""Contrastive tuple loss fine-tuning with hard-negative re-mining every epoch."""
import time

import torch
import torch.nn.functional as F


def contrastive_tuple_loss(vecs, labels, margin=0.7):
    # vecs: (N, D) with the query first; labels: 1 positive, 0 negative, -1 query
    q = vecs[labels == -1]
    others, lab = vecs[labels != -1], labels[labels != -1]
    d = (others - q).norm(dim=1)
    pos = lab.float() * d.pow(2)
    neg = (1 - lab.float()) * F.relu(margin - d).pow(2)
    return 0.5 * (pos + neg).sum()


class TupleTrainer:
    def __init__(self, net, optimizer, tuple_dataset, device, log_every=100):
        self.net = net
        self.optimizer = optimizer
        self.tuples = tuple_dataset
        self.device = device
        self.log_every = log_every

    def epoch(self, index):
        t0 = time.time()
        self.tuples.mine_hard_negatives(self.net)
        self.net.train()
        loader = torch.utils.data.DataLoader(self.tuples, batch_size=1, shuffle=True,
                                             num_workers=8, collate_fn=lambda b: b[0])
        running = 0.0
        for i, (images, labels) in enumerate(loader):
            vecs = self.net(images.to(self.device))
            loss = contrastive_tuple_loss(vecs, labels.to(self.device))
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            running += loss.item()
            if (i + 1) % self.log_every == 0:
                print(f"epoch {index} [{i + 1}/{len(loader)}] loss {running / (i + 1):.4f}")
        print(f"epoch {index} done in {time.time() - t0:.0f}s")
        return running / max(len(loader), 1)
