"""Fine-tune an ImageNet classifier on a small dataset with a hand-written ignite step.

    python ignite_finetune_custom_step.py --data ./flowers --arch resnet50 --epochs 30
"""
import argparse
import logging

import torch
import torch.nn as nn
from ignite.contrib.handlers import ProgressBar
from ignite.engine import Engine, Events
from ignite.handlers import ModelCheckpoint, global_step_from_engine

from mylib.data import make_loaders
from mylib.zoo import get_model

logging.basicConfig(level=logging.INFO)
log = logging.getLogger("ft")


def get_args():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--arch", default="resnet50")
    p.add_argument("--num-classes", type=int, default=102)
    p.add_argument("--batch-size", type=int, default=24)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--val-every", type=int, default=250, help="iterations between validations")
    p.add_argument("--freeze-bn-affine", action="store_true",
                   help="keep the pretrained BN scale/shift (small batches)")
    p.add_argument("--out", default="checkpoints")
    return p.parse_args()


def main():
    args = get_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_loader, val_loader = make_loaders(args.data, args.batch_size)

    model = get_model(args.arch, num_classes=args.num_classes, pretrained=True).to(device)

    if args.freeze_bn_affine:
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm2d, nn.SyncBatchNorm)):
                for p in m.parameters():
                    p.requires_grad = False  # expect: MG302

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=args.lr, momentum=0.9, weight_decay=5e-4)
    criterion = nn.CrossEntropyLoss()

    def update(engine, batch):
        x = batch[0].to(device, non_blocking=True)
        y = batch[1].to(device, non_blocking=True)
        optimizer.zero_grad()
        logits = model(x)
        loss = criterion(logits, y)
        loss.backward()
        optimizer.step()
        return loss.item()

    trainer = Engine(update)
    ProgressBar(persist=False).attach(trainer, output_transform=lambda l: {"loss": l})

    @trainer.on(Events.EPOCH_STARTED)
    def _to_train(engine):
        model.train()

    @trainer.on(Events.ITERATION_COMPLETED(every=args.val_every))
    def _quick_val(engine):
        model.eval()  # expect: MG101
        n_ok, n_seen, loss_sum = 0, 0, 0.0
        with torch.no_grad():
            for x, y in val_loader:
                x, y = x.to(device), y.to(device)
                out = model(x)
                loss_sum += criterion(out, y).item() * y.size(0)
                n_ok += (out.argmax(1) == y).sum().item()
                n_seen += y.size(0)
        engine.state.metrics["val_acc"] = n_ok / max(n_seen, 1)
        log.info("iter %d  val_loss %.4f  val_acc %.4f", engine.state.iteration,
                 loss_sum / max(n_seen, 1), engine.state.metrics["val_acc"])

    saver = ModelCheckpoint(
        args.out, "ft", n_saved=2, require_empty=False,
        score_function=lambda e: e.state.metrics.get("val_acc", 0.0),
        global_step_transform=global_step_from_engine(trainer),
    )
    trainer.add_event_handler(Events.EPOCH_COMPLETED, saver, {"model": model})
    trainer.run(train_loader, max_epochs=args.epochs)


if __name__ == "__main__":
    main()
