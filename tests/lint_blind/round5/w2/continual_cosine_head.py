"""Class-incremental learning with a cosine-normalised classifier and exemplar replay
(LUCIR-flavoured). New classes arrive in tasks of 10; old-class exemplars are herded."""
import math
import random

import torch
import torch.nn as nn
import torch.nn.functional as F

from cil.backbones import resnet32_cifar
from cil.data import IncrementalCIFAR100, ExemplarMemory

CFG = dict(classes_per_task=10, n_tasks=10, epochs=60, lr=0.1, mem_size=2000,
           feat_dropout=0.25, distill_weight=5.0, batch_size=128)


class CosineClassifier(nn.Module):
    def __init__(self, in_features, n_classes, feat_dropout=0.0):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_classes, in_features))
        self.sigma = nn.Parameter(torch.tensor(10.0))
        self.feat_dropout = feat_dropout
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))

    def add_classes(self, n_new):
        extra = torch.empty(n_new, self.weight.size(1), device=self.weight.device)
        nn.init.kaiming_uniform_(extra, a=math.sqrt(5))
        self.weight = nn.Parameter(torch.cat([self.weight.data, extra], dim=0))

    def forward(self, feats):
        if not self.training:
            self.feat_dropout = 0.0  # expect: MG203
        feats = F.dropout(feats, self.feat_dropout, training=self.training)
        return self.sigma * F.linear(F.normalize(feats, dim=1), F.normalize(self.weight, dim=1))


class IncrementalNet(nn.Module):
    def __init__(self, n_initial, feat_dropout):
        super().__init__()
        self.backbone = resnet32_cifar()
        self.head = CosineClassifier(64, n_initial, feat_dropout)

    def forward(self, x, return_feats=False):
        f = self.backbone(x)
        out = self.head(f)
        return (out, f) if return_feats else out


def accuracy_on(net, loader, device):
    net.eval()
    correct = total = 0
    for x, y in loader:
        logits = net(x.to(device))  # expect: MG401
        correct += (logits.argmax(1).cpu() == y).sum().item()
        total += y.size(0)
    return 100.0 * correct / total


def train_task(net, old_net, loader, device):
    opt = torch.optim.SGD(net.parameters(), lr=CFG["lr"], momentum=0.9, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [30, 45], gamma=0.1)
    for epoch in range(CFG["epochs"]):
        net.train()
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            logits, feats = net(x, return_feats=True)
            loss = F.cross_entropy(logits, y)
            if old_net is not None:
                with torch.no_grad():
                    _, old_feats = old_net(x, return_feats=True)
                loss = loss + CFG["distill_weight"] * (1 - F.cosine_similarity(feats, old_feats).mean())
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()


def main():
    random.seed(1993)
    torch.manual_seed(1993)
    device = "cuda"
    bench = IncrementalCIFAR100("/data/cifar100", CFG["classes_per_task"], seed=1993)
    memory = ExemplarMemory(CFG["mem_size"])
    net = IncrementalNet(CFG["classes_per_task"], CFG["feat_dropout"]).to(device)
    old_net = None
    for task in range(CFG["n_tasks"]):
        if task > 0:
            net.head.add_classes(CFG["classes_per_task"])
        loader = bench.train_loader(task, extra=memory.dataset(), batch_size=CFG["batch_size"])
        train_task(net, old_net, loader, device)
        memory.update(net, bench.task_dataset(task), device)

        accs = [accuracy_on(net, bench.test_loader(t), device) for t in range(task + 1)]
        print(f"task {task}: per-task acc {['%.1f' % a for a in accs]}  avg {sum(accs) / len(accs):.2f}")

        old_net = IncrementalNet(1, 0.0).to(device)
        old_net.head.weight = nn.Parameter(net.head.weight.detach().clone())
        old_net.load_state_dict(net.state_dict())
        old_net.eval()
        for p in old_net.parameters():
            p.requires_grad_(False)


if __name__ == "__main__":
    main()
