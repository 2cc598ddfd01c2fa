"""Two-tower candidate retrieval with in-batch sampled softmax (logQ corrected).

    model = TwoTowerRetrieval(n_users, n_items, user_feat_dim, item_feat_dim)
    model.train(loader, epochs=3)
    model.export_towers("artifacts/")
"""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F


def tower(in_dim, hidden, out_dim, dropout):
    layers = []
    for h in hidden:
        layers += [nn.Linear(in_dim, h), nn.BatchNorm1d(h), nn.ReLU(), nn.Dropout(dropout)]
        in_dim = h
    layers.append(nn.Linear(in_dim, out_dim))
    return nn.Sequential(*layers)


class TwoTowerRetrieval(nn.Module):
    def __init__(self, n_users, n_items, user_feat_dim, item_feat_dim, dim=64,
                 hidden=(256, 128), dropout=0.1):
        super().__init__()
        self.user_id = nn.Embedding(n_users, dim)
        self.item_id = nn.Embedding(n_items, dim)
        self.user_tower = tower(dim + user_feat_dim, hidden, dim, dropout)
        self.item_tower = tower(dim + item_feat_dim, hidden, dim, dropout)
        self.log_temp = nn.Parameter(torch.tensor(-3.0))

    def user_vec(self, uid, ufeat):
        return F.normalize(self.user_tower(torch.cat([self.user_id(uid), ufeat], -1)), dim=-1)

    def item_vec(self, iid, ifeat):
        return F.normalize(self.item_tower(torch.cat([self.item_id(iid), ifeat], -1)), dim=-1)

    def forward(self, uid, ufeat, iid, ifeat):
        return self.user_vec(uid, ufeat) @ self.item_vec(iid, ifeat).T / self.log_temp.exp()

    def train(self, loader, epochs=1, lr=1e-3, device="cuda"):  # expect: MG104
        super().train(True)
        self.to(device)
        opt = torch.optim.Adagrad(self.parameters(), lr=lr)
        for epoch in range(epochs):
            running = 0.0
            for step, batch in enumerate(loader):
                uid, ufeat, iid, ifeat, item_logq = (t.to(device) for t in batch)
                logits = self(uid, ufeat, iid, ifeat) - item_logq[None, :]
                labels = torch.arange(logits.size(0), device=device)
                loss = F.cross_entropy(logits, labels)
                opt.zero_grad()
                loss.backward()
                opt.step()
                running += loss.item()
                if step % 200 == 199:
                    print(f"epoch {epoch} step {step + 1} in-batch softmax {running / 200:.4f}")
                    running = 0.0

    def export_towers(self, out_dir):
        os.makedirs(out_dir, exist_ok=True)
        torch.save({"id": self.user_id.state_dict(), "mlp": self.user_tower.state_dict()},
                   os.path.join(out_dir, "user_tower.pt"))
        torch.save({"id": self.item_id.state_dict(), "mlp": self.item_tower.state_dict()},
                   os.path.join(out_dir, "item_tower.pt"))
        torch.save({"log_temp": self.log_temp.detach().cpu()}, os.path.join(out_dir, "temp.pt"))


if __name__ == "__main__":
    from retrieval.data import InteractionLog, make_loader

    log = InteractionLog("/data/retrieval/clicks_30d.parquet")
    model = TwoTowerRetrieval(log.n_users, log.n_items, log.user_feat_dim, log.item_feat_dim)
    model.train(make_loader(log, batch_size=4096), epochs=3)
    model.export_towers("artifacts/two_tower")
