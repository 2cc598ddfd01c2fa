"""Fine-tune a classifier and finish with stochastic weight averaging (SWA)."""
import argparse
import logging

import torch
import torch.nn.functional as F
from torch.optim.swa_utils import SWALR, AveragedModel, update_bn

from data import make_loaders
from zoo import get_network

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
logger = logging.getLogger("swa")


def parse():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="preresnet110")
    ap.add_argument("--dataset", default="cifar100")
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--swa-start", type=int, default=160)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--swa-lr", type=float, default=0.05)
    ap.add_argument("--eval-every", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--label-smoothing", type=float, default=0.0)
    return ap.parse_args()


def accuracy_on(network, loader, device):
    network.eval()
    ok = total = 0
    nll = 0.0
    with torch.inference_mode():
        for inputs, targets in loader:
            inputs, targets = inputs.to(device), targets.to(device)
            logits = network(inputs)
            nll += F.cross_entropy(logits, targets, reduction="sum").item()
            ok += logits.argmax(-1).eq(targets).sum().item()
            total += targets.size(0)
    return ok / total, nll / total


def run_epoch(network, loader, optimizer, device, smoothing):
    network.train()
    seen, loss_acc = 0, 0.0
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)
        loss = F.cross_entropy(network(inputs), targets, label_smoothing=smoothing)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss_acc += loss.item() * targets.size(0)
        seen += targets.size(0)
    return loss_acc / seen


def main():
    args = parse()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_loader, test_loader, num_classes = make_loaders(args.dataset, args.batch_size)
    network = get_network(args.arch, num_classes=num_classes).to(device)

    optimizer = torch.optim.SGD(network.parameters(), lr=args.lr, momentum=0.9, weight_decay=3e-4)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.swa_start)
    swa_network = AveragedModel(network)
    swa_sched = SWALR(optimizer, swa_lr=args.swa_lr, anneal_epochs=5)

    for epoch in range(args.epochs):
        train_loss = run_epoch(network, train_loader, optimizer, device, args.label_smoothing)
        if epoch >= args.swa_start:
            swa_network.update_parameters(network)
            swa_sched.step()
        else:
            cosine.step()

        if (epoch + 1) % args.eval_every == 0 or epoch == args.epochs - 1:
            acc, nll = accuracy_on(network, test_loader, device)
            logger.info("epoch %d train %.4f | test acc %.4f nll %.4f", epoch, train_loss, acc, nll)

    # recompute BatchNorm statistics for the averaged weights, then evaluate them
    update_bn(train_loader, swa_network, device=device)
    swa_acc, swa_nll = accuracy_on(swa_network, test_loader, device)
    logger.info("SWA: acc %.4f nll %.4f", swa_acc, swa_nll)
    torch.save({"swa": swa_network.module.state_dict(), "last": network.state_dict()},
               f"{args.arch}_{args.dataset}_swa.pt")


if __name__ == "__main__":
    main()
