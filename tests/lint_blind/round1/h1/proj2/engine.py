import math
import sys
import time

import torch
import torch.nn.functional as F


@torch.no_grad()
def evaluate(model, loader, device, n_classes):
    model.eval()
    confusion = torch.zeros(n_classes, n_classes, dtype=torch.long)
    loss_sum, n = 0.0, 0
    for feats, labels in loader:
        feats, labels = feats.to(device, non_blocking=True), labels.to(device, non_blocking=True)
        logits = model(feats)
        loss_sum += F.cross_entropy(logits, labels, reduction="sum").item()
        n += labels.numel()
        for t, p in zip(labels.cpu(), logits.argmax(1).cpu()):
            confusion[t, p] += 1
    acc = confusion.diag().sum().item() / max(n, 1)
    return {"loss": loss_sum / max(n, 1), "acc": acc, "confusion": confusion}


def train_one_epoch(model, loader, optimizer, scheduler, device, epoch, spec_augment=None,
                    mid_epoch_eval=None, eval_every=0, print_freq=100):
    model.train()
    t0 = time.time()
    for step, (feats, labels) in enumerate(loader, start=1):
        feats, labels = feats.to(device, non_blocking=True), labels.to(device, non_blocking=True)
        if spec_augment is not None:
            feats = spec_augment(feats)
        loss = F.cross_entropy(model(feats), labels, label_smoothing=0.1)
        if not math.isfinite(loss.item()):
            print("loss is {}, stopping".format(loss.item()))
            sys.exit(1)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()

        if step % print_freq == 0:
            print(f"epoch {epoch} [{step}/{len(loader)}] loss {loss.item():.4f} "
                  f"lr {scheduler.get_last_lr()[0]:.2e} {time.time() - t0:.1f}s")
        if mid_epoch_eval is not None and eval_every and step % eval_every == 0:
            mid_epoch_eval(step)
            model.train()
