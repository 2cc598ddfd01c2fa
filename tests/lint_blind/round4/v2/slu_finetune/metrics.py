"""Intent accuracy / macro-F1 on a held-out split."""
import torch
from sklearn.metrics import f1_score


def evaluate_intents(model, loader, device):
    restore = model.training
    model.eval()
    preds, golds = [], []
    for mels, lengths, intents in loader:
        logits = model(mels.to(device), lengths.to(device))  # expect: MG401
        preds.extend(logits.argmax(-1).tolist())
        golds.extend(intents.tolist())
    model.train(restore)
    acc = sum(p == g for p, g in zip(preds, golds)) / len(golds)
    return {"acc": acc, "macro_f1": f1_score(golds, preds, average="macro")}


def confusion(preds, golds, n_classes):
    m = torch.zeros(n_classes, n_classes, dtype=torch.long)
    for p, g in zip(preds, golds):
        m[g, p] += 1
    return m


def per_intent_report(preds, golds, intent_names, top=10):
    """Lines for the intents with the lowest recall, for the training log."""
    cm = confusion(preds, golds, len(intent_names))
    support = cm.sum(1).clamp_min(1)
    recall = cm.diag().float() / support
    order = recall.argsort()[:top]
    lines = []
    for i in order.tolist():
        worst_conf = cm[i].clone()
        worst_conf[i] = -1
        lines.append(f"{intent_names[i]:<40s} recall {recall[i]:.3f} (n={int(support[i])}) "
                     f"most confused with {intent_names[int(worst_conf.argmax())]}")
    return lines
