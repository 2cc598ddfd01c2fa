"""Input-gradient saliency maps for a fine-tuned classifier.

The network is loaded and never put in eval mode: every explained image runs BatchNorm on a
batch of one (and updates its running statistics) and dropout changes the scores explained.
"""
import torch
import torchvision

from viz import save_heatmap
from imagesets import load_images


class Saliency:
    def __init__(self, network):
        self.network = network

    def __call__(self, image, label):
        image = image.clone().requires_grad_(True)
        score = self.network(image)[0, label]  # expect: MG102
        score.backward()
        return image.grad.abs().amax(dim=1)[0]


def main(ckpt="finetuned.pt"):
    net = torchvision.models.resnet50(num_classes=10)
    net.load_state_dict(torch.load(ckpt, map_location="cpu"))
    explain = Saliency(net)
    for i, (image, label) in enumerate(load_images("samples/")):
        save_heatmap(explain(image[None], label), f"saliency_{i}.png")


if __name__ == "__main__":
    main()
