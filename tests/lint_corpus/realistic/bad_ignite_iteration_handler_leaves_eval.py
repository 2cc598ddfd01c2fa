"""Fine-tuning with an ignite Engine and a hand-written update step.

model.train() runs only when an epoch starts; the handler that validates every N iterations
puts the model in eval mode and never gives training mode back, so the rest of each epoch
trains with dropout off and BatchNorm frozen.
"""
import torch
import torch.nn.functional as F
from ignite.engine import Engine, Events

from cls_data import loaders
from cls_models import build


def main(epochs=10, every=200):
    train_loader, val_loader = loaders()
    model = build("resnet18", num_classes=10)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def update(engine, batch):
        x, y = batch
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    trainer = Engine(update)

    @trainer.on(Events.EPOCH_STARTED)
    def to_train(engine):
        model.train()

    @trainer.on(Events.ITERATION_COMPLETED(every=every))
    def quick_validation(engine):
        model.eval()  # expect: MG101
        correct = seen = 0
        with torch.no_grad():
            for x, y in val_loader:
                correct += (model(x).argmax(1) == y).sum().item()
                seen += y.numel()
        print(engine.state.iteration, correct / max(seen, 1))

    trainer.run(train_loader, max_epochs=epochs)
