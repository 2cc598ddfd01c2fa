from contextlib import contextmanager

import torch
import torch.nn.functional as F


@contextmanager
def eval_mode(module):
    """Switch `module` to eval for the duration of the block, then restore its previous mode."""
    previous = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(previous)


def evaluate(engine, loader):
    correct = total = 0
    loss_sum = 0.0
    with eval_mode(engine), torch.no_grad():
        for ids, labels in loader:
            ids, labels = ids.to(engine.device), labels.to(engine.device)
            logits = engine(ids)
            loss_sum += F.cross_entropy(logits.float(), labels, reduction="sum").item()
            correct += (logits.argmax(-1) == labels).sum().item()
            total += labels.numel()
    return {"loss": loss_sum / max(total, 1), "acc": correct / max(total, 1)}


def train_epoch(engine, loader, epoch, val_loader=None, val_every=0, log_every=50):
    engine.train()
    for step, (ids, labels) in enumerate(loader, start=1):
        ids, labels = ids.to(engine.device), labels.to(engine.device)
        logits = engine(ids)
        loss = F.cross_entropy(logits.float(), labels, label_smoothing=0.1)
        engine.backward(loss)
        engine.step()
        if step % log_every == 0 and engine.global_rank == 0:
            print(f"epoch {epoch} step {step}: loss {loss.item():.4f}")
        if val_loader is not None and val_every and step % val_every == 0:
            stats = evaluate(engine, val_loader)
            if engine.global_rank == 0:
                print(f"epoch {epoch} step {step}: val {stats}")
