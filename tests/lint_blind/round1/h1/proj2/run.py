"""python -m proj2.run --data data/speech_commands_v2 --arch ds_cnn_l"""
import argparse
import json
import os

import torch

from proj2.data import SpeechCommands, SpecAugment
from proj2.engine import evaluate, train_one_epoch
from proj2.models import build_model


def parse():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--arch", default="ds_cnn_l")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--bs", type=int, default=256)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--eval_every", type=int, default=400)
    ap.add_argument("--out", default="runs/kws")
    return ap.parse_args()


def main():
    args = parse()
    os.makedirs(args.out, exist_ok=True)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_set = SpeechCommands(args.data, "training")
    val_set = SpeechCommands(args.data, "validation")
    test_set = SpeechCommands(args.data, "testing")
    mk = lambda ds, shuf: torch.utils.data.DataLoader(ds, batch_size=args.bs, shuffle=shuf, num_workers=8,
                                                     pin_memory=True, drop_last=shuf)
    train_dl, val_dl, test_dl = mk(train_set, True), mk(val_set, False), mk(test_set, False)

    n_classes = len(train_set.labels)
    net = build_model(args.arch, n_classes).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=0.05)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.epochs * len(train_dl))
    best = {"acc": 0.0}

    def check(step):
        stats = evaluate(net, val_dl, device, n_classes)
        print(f"  val @ step {step}: acc {stats['acc']:.4f} loss {stats['loss']:.4f}")
        if stats["acc"] > best["acc"]:
            best["acc"] = stats["acc"]
            torch.save(net.state_dict(), os.path.join(args.out, "best.pt"))

    for epoch in range(args.epochs):
        train_one_epoch(net, train_dl, opt, sched, device, epoch, spec_augment=SpecAugment(),
                        mid_epoch_eval=check, eval_every=args.eval_every)
        check(step=(epoch + 1) * len(train_dl))

    net.load_state_dict(torch.load(os.path.join(args.out, "best.pt"), map_location=device))
    test_stats = evaluate(net, test_dl, device, n_classes)
    print(f"test acc {test_stats['acc']:.4f}")
    with open(os.path.join(args.out, "test_metrics.json"), "w") as f:
        json.dump({"acc": test_stats["acc"], "loss": test_stats["loss"],
                   "confusion": test_stats["confusion"].tolist()}, f)


if __name__ == "__main__":
    main()
