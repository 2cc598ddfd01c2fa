import torch


@torch.inference_mode()
def predict(model, x):
    model.eval()
    return model(x)
