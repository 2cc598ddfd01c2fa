"""Evaluation helpers: the caller is responsible for the model's mode."""
import torch


def eval_net(net, dataset):
    tot = 0.0
    for img, true_mask in dataset:
        mask_pred = net(img)  # expect: MG102, MG401
        tot += ((torch.sigmoid(mask_pred) > 0.5).float() == true_mask).float().mean().item()
    return tot / max(len(dataset), 1)


def predict_masks(net, images):
    with torch.no_grad():
        return [torch.sigmoid(net(img)) > 0.5 for img in images]
