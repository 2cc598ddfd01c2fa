"""SimSiam on CIFAR-10 with an online kNN monitor (every few hundred steps)."""
from contextlib import contextmanager

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision import transforms as T


@contextmanager
def evaluating(*nets):
    states = [n.training for n in nets]
    for n in nets:
        n.eval()
    try:
        yield
    finally:
        for n, s in zip(nets, states):
            n.train(s)


class SimSiam(nn.Module):
    def __init__(self, dim=2048, pred_dim=512):
        super().__init__()
        r = torchvision.models.resnet18(num_classes=dim, zero_init_residual=True)
        r.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        r.maxpool = nn.Identity()
        prev = r.fc.weight.shape[1]
        r.fc = nn.Sequential(
            nn.Linear(prev, prev, bias=False), nn.BatchNorm1d(prev), nn.ReLU(inplace=True),
            nn.Linear(prev, prev, bias=False), nn.BatchNorm1d(prev), nn.ReLU(inplace=True),
            nn.Linear(prev, dim, bias=False), nn.BatchNorm1d(dim, affine=False))
        self.encoder = r
        self.predictor = nn.Sequential(
            nn.Linear(dim, pred_dim, bias=False), nn.BatchNorm1d(pred_dim), nn.ReLU(inplace=True),
            nn.Linear(pred_dim, dim))

    def forward(self, x1, x2):
        z1, z2 = self.encoder(x1), self.encoder(x2)
        p1, p2 = self.predictor(z1), self.predictor(z2)
        return p1, p2, z1.detach(), z2.detach()


def knn_top1(encoder, bank_loader, test_loader, k=200, t=0.1, classes=10):
    feats, labels = [], []
    for x, y in bank_loader:
        feats.append(F.normalize(encoder(x.cuda(non_blocking=True)), dim=1))
        labels.append(y.cuda(non_blocking=True))
    feats, labels = torch.cat(feats), torch.cat(labels)
    hit = n = 0
    for x, y in test_loader:
        q = F.normalize(encoder(x.cuda(non_blocking=True)), dim=1)
        sim, idx = (q @ feats.T).topk(k, dim=1)
        w = (sim / t).exp()
        one_hot = F.one_hot(labels[idx], classes).float()
        pred = (one_hot * w.unsqueeze(-1)).sum(1).argmax(1)
        hit += (pred.cpu() == y).sum().item()
        n += y.numel()
    return hit / n


def main(epochs=800, monitor_every=400):
    aug = T.Compose([T.RandomResizedCrop(32, scale=(0.2, 1.0)),
                     T.RandomApply([T.ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8),
                     T.RandomGrayscale(0.2), T.RandomHorizontalFlip(), T.ToTensor(),
                     T.Normalize((0.4914, 0.4822, 0.4465), (0.247, 0.243, 0.261))])
    plain = T.Compose([T.ToTensor(), T.Normalize((0.4914, 0.4822, 0.4465), (0.247, 0.243, 0.261))])
    two = lambda img: (aug(img), aug(img))
    train = torchvision.datasets.CIFAR10("data", True, transform=two)
    loader = torch.utils.data.DataLoader(train, 512, shuffle=True, num_workers=8, drop_last=True)
    bank = torch.utils.data.DataLoader(torchvision.datasets.CIFAR10("data", True, transform=plain), 1024)
    test = torch.utils.data.DataLoader(torchvision.datasets.CIFAR10("data", False, transform=plain), 1024)

    model = SimSiam().cuda()
    opt = torch.optim.SGD(model.parameters(), lr=0.06 * 512 / 256, momentum=0.9, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    model.train()
    step = 0
    for epoch in range(epochs):
        for (x1, x2), _ in loader:
            p1, p2, z1, z2 = model(x1.cuda(non_blocking=True), x2.cuda(non_blocking=True))
            loss = -(F.cosine_similarity(p1, z2).mean() + F.cosine_similarity(p2, z1).mean()) / 2
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step % monitor_every == 0:
                with evaluating(model), torch.no_grad():
                    acc = knn_top1(model.encoder, bank, test)
                print(f"epoch {epoch} step {step} loss {loss.item():.4f} knn@200 {acc:.4f}")
        sched.step()
    torch.save(model.encoder.state_dict(), "simsiam_r18_cifar.pth")


if __name__ == "__main__":
    main()
