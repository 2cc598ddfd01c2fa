"""SVHN digits.  Prints a quick validation accuracy on a few batches every
300 iterations so I can see early if a run is going nowhere."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision import datasets, transforms

torch.backends.cudnn.benchmark = True
use_cuda = torch.cuda.is_available()
dev = torch.device("cuda" if use_cuda else "cpu")

norm = transforms.Normalize((0.4377, 0.4438, 0.4728), (0.198, 0.201, 0.197))
tr = datasets.SVHN("data", split="train", download=True, transform=transforms.Compose([transforms.ToTensor(), norm]))
te = datasets.SVHN("data", split="test", download=True, transform=transforms.Compose([transforms.ToTensor(), norm]))
tr_loader = torch.utils.data.DataLoader(tr, batch_size=128, shuffle=True, num_workers=4, pin_memory=use_cuda)
te_loader = torch.utils.data.DataLoader(te, batch_size=500, shuffle=True, num_workers=4)


class DigitNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(3, 48, 5, padding=2), nn.BatchNorm2d(48), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(48, 96, 5, padding=2), nn.BatchNorm2d(96), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(96, 160, 3, padding=1), nn.BatchNorm2d(160), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.drop = nn.Dropout(0.3)
        self.fc = nn.Linear(160 * 4 * 4, 10)

    def forward(self, x):
        return self.fc(self.drop(self.conv(x).flatten(1)))


net = DigitNet().to(dev)
opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[10, 15], gamma=0.1)


def peek_accuracy(n_batches=4):
    """Accuracy on a few random test batches, without disturbing training."""
    was_training = net.training
    net.eval()
    hit = seen = 0
    try:
        with torch.no_grad():
            for b, (x, y) in enumerate(te_loader):
                if b == n_batches:
                    break
                hit += (net(x.to(dev)).argmax(1).cpu() == y).sum().item()
                seen += len(y)
    finally:
        net.train(was_training)
    return hit / max(seen, 1)


def full_test():
    net.eval()
    hit = 0
    with torch.no_grad():
        for x, y in te_loader:
            hit += (net(x.to(dev)).argmax(1).cpu() == y).sum().item()
    return hit / len(te)


it = 0
net.train()
for epoch in range(20):
    for x, y in tr_loader:
        x, y = x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        it += 1
        if it % 300 == 0:
            print(f"it {it}: loss {loss.item():.3f} quick acc {peek_accuracy():.3f}")
    sched.step()

print("final test accuracy", full_test())
torch.save(net.state_dict(), "svhn_digitnet.pt")
