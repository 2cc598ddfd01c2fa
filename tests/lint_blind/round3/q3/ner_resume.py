"""Token-classification fine-tuning with resumable checkpoints (plain PyTorch loop)."""
import argparse
import os

import torch
from seqeval.metrics import f1_score
from transformers import AutoModelForTokenClassification, AutoTokenizer, get_linear_schedule_with_warmup

from nerdata import build_loaders, LABELS


def decode(logits, labels):
    pred_tags, gold_tags = [], []
    for p_row, g_row in zip(logits.argmax(-1).tolist(), labels.tolist()):
        keep = [(p, g) for p, g in zip(p_row, g_row) if g != -100]
        pred_tags.append([LABELS[p] for p, _ in keep])
        gold_tags.append([LABELS[g] for _, g in keep])
    return pred_tags, gold_tags


def span_f1(net, loader, device):
    previous = net.training
    net.eval()
    try:
        preds, golds = [], []
        with torch.inference_mode():
            for batch in loader:
                batch = {k: v.to(device) for k, v in batch.items()}
                p, g = decode(net(**batch).logits, batch["labels"])
                preds += p
                golds += g
        return f1_score(golds, preds)
    finally:
        net.train(previous)


def load_state(path, net, opt, sched, dev_loader, device):
    ck = torch.load(path, map_location="cpu")
    net.load_state_dict(ck["model"])
    opt.load_state_dict(ck["optimizer"])
    sched.load_state_dict(ck["scheduler"])
    f1 = span_f1(net, dev_loader, device)
    print(f"resumed from {path} (epoch {ck['epoch']}), dev F1 now {f1:.4f} vs saved {ck['dev_f1']:.4f}")
    return ck["epoch"] + 1, ck["dev_f1"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="xlm-roberta-base")
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", default="out/ner")
    ap.add_argument("--resume", default=None)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--lr", type=float, default=3e-5)
    args = ap.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    tok = AutoTokenizer.from_pretrained(args.model)
    train_dl, dev_dl, test_dl = build_loaders(args.data, tok, batch_size=32)
    net = AutoModelForTokenClassification.from_pretrained(args.model, num_labels=len(LABELS)).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=0.01)
    sched = get_linear_schedule_with_warmup(opt, len(train_dl), args.epochs * len(train_dl))

    start, best = 0, 0.0
    net.train()
    if args.resume:
        start, best = load_state(args.resume, net, opt, sched, dev_dl, device)

    os.makedirs(args.out, exist_ok=True)
    for epoch in range(start, args.epochs):
        for batch in train_dl:
            batch = {k: v.to(device) for k, v in batch.items()}
            loss = net(**batch).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
        dev_f1 = span_f1(net, dev_dl, device)
        print(f"epoch {epoch}: dev F1 {dev_f1:.4f}")
        state = {"model": net.state_dict(), "optimizer": opt.state_dict(),
                 "scheduler": sched.state_dict(), "epoch": epoch, "dev_f1": dev_f1}
        torch.save(state, os.path.join(args.out, "last.pt"))
        if dev_f1 > best:
            best = dev_f1
            torch.save(state, os.path.join(args.out, "best.pt"))

    best_state = torch.load(os.path.join(args.out, "best.pt"), map_location="cpu")
    net.load_state_dict(best_state["model"])
    net.eval()
    print(f"test F1 {span_f1(net, test_dl, device):.4f}")


if __name__ == "__main__":
    main()
