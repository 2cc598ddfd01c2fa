"""Multi-view stereo test script: the network is put in train mode before testing."""
import torch
import torch.nn as nn


class PointMVSNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.coarse = nn.Sequential(nn.Conv3d(32, 16, 3, padding=1), nn.BatchNorm3d(16), nn.ReLU())
        self.head = nn.Conv3d(16, 1, 1)

    def forward(self, batch):
        return self.head(self.coarse(batch["cost_volume"]))


def test_model(model, data_loader, output_dir):
    model.train()
    with torch.no_grad():
        for iteration, data_batch in enumerate(data_loader):
            assert data_batch["cost_volume"].size(0) == 1
            preds = model(data_batch)  # expect: MG102
            torch.save(preds, f"{output_dir}/{iteration:06d}.pt")


def main():
    model = PointMVSNet()
    model.load_state_dict(torch.load("model_best.pth"))
    test_model(model, [], "outputs")
