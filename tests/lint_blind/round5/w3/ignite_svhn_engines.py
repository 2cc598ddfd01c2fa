import argparse
import contextlib
from collections import Counter

import torch
import torch.nn as nn
from ignite.contrib.handlers import ProgressBar
from ignite.engine import Events, create_supervised_evaluator, create_supervised_trainer
from ignite.handlers import EarlyStopping, ModelCheckpoint
from ignite.metrics import Accuracy, Loss, RunningAverage
from torch.utils.data import DataLoader
from torchvision import datasets, transforms


@contextlib.contextmanager
def evaluating(net):
    previous = net.training
    net.eval()
    try:
        yield net
    finally:
        net.train(previous)


class SvhnNet(nn.Module):
    def __init__(self, n_classes=10):
        super().__init__()

        def block(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
                                 nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
                                 nn.MaxPool2d(2), nn.Dropout(0.2))

        self.features = nn.Sequential(block(3, 48), block(48, 96), block(96, 192))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(192 * 16, 256), nn.ReLU(),
                                        nn.Dropout(0.5), nn.Linear(256, n_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


def main(args):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.44, 0.44, 0.47), (0.20, 0.20, 0.20))])
    train_loader = DataLoader(datasets.SVHN(args.root, "train", transform=tf, download=True),
                              batch_size=args.bs, shuffle=True, num_workers=4, drop_last=True)
    val_loader = DataLoader(datasets.SVHN(args.root, "test", transform=tf, download=True),
                            batch_size=512, num_workers=4)

    model = SvhnNet().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    criterion = nn.CrossEntropyLoss()

    trainer = create_supervised_trainer(model, optimizer, criterion, device=device)
    evaluator = create_supervised_evaluator(
        model, metrics={"acc": Accuracy(), "nll": Loss(criterion)}, device=device)
    RunningAverage(output_transform=lambda x: x).attach(trainer, "loss")
    ProgressBar().attach(trainer, ["loss"])

    @trainer.on(Events.ITERATION_COMPLETED(every=args.eval_every))
    def run_eval(engine):
        evaluator.run(val_loader)
        m = evaluator.state.metrics
        print(f"iter {engine.state.iteration}: val acc {m['acc']:.4f} nll {m['nll']:.4f}")

    @trainer.on(Events.EPOCH_COMPLETED)
    def confusion_summary(engine):
        errors = Counter()
        with evaluating(model), torch.no_grad():
            for i, (x, y) in enumerate(val_loader):
                if i == 10:
                    break
                pred = model(x.to(device)).argmax(1).cpu()
                for t, p in zip(y.tolist(), pred.tolist()):
                    if t != p:
                        errors[(t, p)] += 1
        print("most common confusions:", errors.most_common(5))

    handler = EarlyStopping(patience=5, score_function=lambda e: e.state.metrics["acc"], trainer=trainer)
    evaluator.add_event_handler(Events.COMPLETED, handler)
    ckpt = ModelCheckpoint(args.out, "svhn", n_saved=1, require_empty=False,
                           score_function=lambda e: e.state.metrics["acc"], score_name="acc")
    evaluator.add_event_handler(Events.COMPLETED, ckpt, {"model": model})

    trainer.run(train_loader, max_epochs=args.epochs)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--root", default="./data")
    p.add_argument("--out", default="./ckpt")
    p.add_argument("--bs", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--eval-every", type=int, default=300)
    main(p.parse_args())
