def saliency(model, x):
    model.eval()
    x.requires_grad_(True)
    score = model(x).max()
    score.backward()
    return x.grad
