"""Per-epoch training and validation routines for the liver U-Net."""
import torch
import torch.nn.functional as F
from torch.cuda.amp import autocast
from tqdm import tqdm


def soft_dice_loss(logits, target, n_classes, eps=1.0):
    probs = logits.softmax(1)
    onehot = F.one_hot(target, n_classes).permute(0, 3, 1, 2).float()
    inter = (probs * onehot).sum(dim=(0, 2, 3))
    union = probs.sum(dim=(0, 2, 3)) + onehot.sum(dim=(0, 2, 3))
    return 1.0 - ((2 * inter + eps) / (union + eps))[1:].mean()


def hard_dice(pred, target, cls):
    p, t = pred == cls, target == cls
    denom = p.sum() + t.sum()
    if denom == 0:
        return torch.tensor(1.0)
    return 2.0 * (p & t).sum().float() / denom.float()


def train_one_epoch(net, loader, optimizer, scaler, device, n_classes, epoch):
    total, n = 0.0, 0
    bar = tqdm(loader, desc=f"train {epoch}", leave=False)
    for batch in bar:
        img = batch["image"].to(device, non_blocking=True)
        lbl = batch["mask"].to(device, non_blocking=True).long()
        optimizer.zero_grad(set_to_none=True)
        with autocast():
            logits = net(img)
            loss = F.cross_entropy(logits, lbl) + soft_dice_loss(logits, lbl, n_classes)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        total += loss.item() * img.size(0)
        n += img.size(0)
        bar.set_postfix(loss=f"{loss.item():.4f}")
    return total / max(n, 1)


def evaluate(net, loader, device, n_classes):
    net.eval()  # expect: MG101
    scores = {c: [] for c in range(1, n_classes)}
    with torch.no_grad():
        for batch in tqdm(loader, desc="val", leave=False):
            img = batch["image"].to(device)
            lbl = batch["mask"].to(device).long()
            with autocast():
                pred = net(img).argmax(1)
            for c in scores:
                scores[c].append(hard_dice(pred, lbl, c).item())
    return {c: sum(v) / len(v) for c, v in scores.items()}
