"""Train the document classifier with DeepSpeed (ZeRO-2, bf16).

    deepspeed run.py --deepspeed --deepspeed_config ds_config.json --data data/arxiv
"""
import argparse

import deepspeed
import torch
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler

from corpus import DocDataset, load_vocab, pad_collate
from engine import evaluate, train_epoch
from modeling import DocClassifier


def get_args():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--val-every", type=int, default=1000)
    p.add_argument("--local_rank", type=int, default=-1)
    p = deepspeed.add_config_arguments(p)
    return p.parse_args()


def main():
    args = get_args()
    deepspeed.init_distributed()
    vocab = load_vocab(f"{args.data}/vocab.txt")
    train_ds = DocDataset(f"{args.data}/train.jsonl", vocab)
    val_ds = DocDataset(f"{args.data}/val.jsonl", vocab)
    test_ds = DocDataset(f"{args.data}/test.jsonl", vocab)

    model = DocClassifier(len(vocab), train_ds.num_classes, pad_id=vocab["<pad>"], unk_id=vocab["<unk>"])
    engine, _, train_loader, _ = deepspeed.initialize(
        args=args, model=model, model_parameters=[p for p in model.parameters() if p.requires_grad],
        training_data=train_ds, collate_fn=pad_collate)

    def eval_loader(ds):
        return DataLoader(ds, batch_size=64, sampler=DistributedSampler(ds, shuffle=False),
                          collate_fn=pad_collate)

    val_loader, test_loader = eval_loader(val_ds), eval_loader(test_ds)
    best = 0.0
    for epoch in range(args.epochs):
        train_epoch(engine, train_loader, epoch, val_loader=val_loader, val_every=args.val_every)
        stats = evaluate(engine, val_loader)
        if engine.global_rank == 0:
            print(f"epoch {epoch}: val {stats}")
        if stats["acc"] > best:
            best = stats["acc"]
            engine.save_checkpoint("checkpoints", tag="best")

    engine.load_checkpoint("checkpoints", tag="best")
    test_stats = evaluate(engine, test_loader)
    if engine.global_rank == 0:
        print(f"test: {test_stats}")
    torch.distributed.barrier()


if __name__ == "__main__":
    main()
