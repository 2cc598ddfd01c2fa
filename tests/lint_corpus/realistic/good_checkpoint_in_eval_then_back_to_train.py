"""Style transfer: checkpoints are written from an eval-mode CPU copy, then training resumes."""
import torch
import torch.nn as nn


class TransformerNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 32, 9, padding=4), nn.InstanceNorm2d(32, affine=True),
                                  nn.ReLU(), nn.Dropout(0.1), nn.Conv2d(32, 3, 9, padding=4))

    def forward(self, x):
        return self.body(x)


def train(loader, device, epochs=2, checkpoint_interval=2000):
    transformer = TransformerNet().to(device)
    optimizer = torch.optim.Adam(transformer.parameters(), 1e-3)
    transformer.train()
    for e in range(epochs):
        for batch_id, (x, _) in enumerate(loader):
            optimizer.zero_grad()
            loss = (transformer(x.to(device)) - x.to(device)).pow(2).mean()
            loss.backward()
            optimizer.step()
            if (batch_id + 1) % checkpoint_interval == 0:
                transformer.eval().cpu()
                torch.save(transformer.state_dict(), f"ckpt_{e}_{batch_id + 1}.pth")
                transformer.to(device).train()
