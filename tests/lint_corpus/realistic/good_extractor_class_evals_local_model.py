"""A feature-extractor class builds its network as a local, puts it in eval mode and only
then stores it on the object; __call__ runs it under no_grad. Nothing is in train mode."""
import torch
from torchvision import models


class EmbeddingExtractor:
    def __init__(self, weights_path, device="cpu"):
        net = models.resnet50()
        net.fc = torch.nn.Identity()
        net.load_state_dict(torch.load(weights_path, map_location="cpu"), strict=False)
        net.eval()
        self.device = torch.device(device)
        self.net = net.to(self.device)

    def __call__(self, batch):
        with torch.no_grad():
            return self.net(batch.to(self.device))
