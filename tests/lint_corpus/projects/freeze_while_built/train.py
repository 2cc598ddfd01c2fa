"""Training script: the detector's constructor freezes its trunk's BatchNorm, a second model is
frozen with apply(); both are undone by the train() at the top of every epoch."""
import torch

from detector import Detector
from trunk import Trunk, set_bn_eval
from voc import voc_loader


def main(epochs=12):
    model = Detector(num_classes=20)
    aux = Trunk(32)
    aux.apply(set_bn_eval)
    params = list(model.parameters()) + list(aux.parameters())
    opt = torch.optim.SGD(params, lr=0.01, momentum=0.9)
    for epoch in range(epochs):
        model.train()
        aux.train()
        for images, targets in voc_loader("train", batch_size=2):
            loss = (model(images) - targets).pow(2).mean() + aux(images).mean() * 0.0
            opt.zero_grad()
            loss.backward()
            opt.step()


if __name__ == "__main__":
    main()
