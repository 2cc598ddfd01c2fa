import torch


@torch.no_grad()
def extract_features(backbone, images):
    return backbone(images)  # expect: MG102
