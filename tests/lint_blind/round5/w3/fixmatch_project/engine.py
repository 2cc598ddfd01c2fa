import copy
import logging

import torch
import torch.nn.functional as F

from evaluate import evaluate

logger = logging.getLogger(__name__)


class ModelEMA:
    """Exponential moving average of the weights; buffers are copied from the student."""

    def __init__(self, model, decay=0.999):
        self.ema = copy.deepcopy(model)
        self.ema.eval()
        self.decay = decay
        for p in self.ema.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model):
        msd = model.state_dict()
        for name, p in self.ema.named_parameters():
            p.mul_(self.decay).add_(msd[name].detach(), alpha=1 - self.decay)
        for name, b in self.ema.named_buffers():
            b.copy_(msd[name])


def interleave(x, size):
    s = list(x.shape)
    return x.reshape([-1, size] + s[1:]).transpose(0, 1).reshape([-1] + s[1:])


def de_interleave(x, size):
    s = list(x.shape)
    return x.reshape([size, -1] + s[1:]).transpose(0, 1).reshape([-1] + s[1:])


def train_one_epoch(model, ema, labeled_loader, unlabeled_loader, optimizer, scheduler, args, epoch,
                    val_loader=None):
    model.train()
    lab_iter, unl_iter = iter(labeled_loader), iter(unlabeled_loader)
    meter = {"loss": 0.0, "lx": 0.0, "lu": 0.0, "mask": 0.0}
    for step in range(args.eval_step):
        try:
            x_l, y_l = next(lab_iter)
        except StopIteration:
            lab_iter = iter(labeled_loader)
            x_l, y_l = next(lab_iter)
        try:
            (u_weak, u_strong), _ = next(unl_iter)
        except StopIteration:
            unl_iter = iter(unlabeled_loader)
            (u_weak, u_strong), _ = next(unl_iter)

        bs = x_l.shape[0]
        inputs = interleave(torch.cat((x_l, u_weak, u_strong)), 2 * args.mu + 1).to(args.device)
        logits = de_interleave(model(inputs), 2 * args.mu + 1)
        logits_x = logits[:bs]
        logits_w, logits_s = logits[bs:].chunk(2)

        lx = F.cross_entropy(logits_x, y_l.to(args.device))
        probs = torch.softmax(logits_w.detach() / args.T, dim=-1)
        max_p, targets_u = probs.max(dim=-1)
        mask = max_p.ge(args.threshold).float()
        lu = (F.cross_entropy(logits_s, targets_u, reduction="none") * mask).mean()
        loss = lx + args.lambda_u * lu

        loss.backward()
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        ema.update(model)

        for k, v in (("loss", loss), ("lx", lx), ("lu", lu), ("mask", mask.mean())):
            meter[k] += v.item() / args.eval_step

        if val_loader is not None and args.val_every and (step + 1) % args.val_every == 0:
            stats = evaluate(model, val_loader, args.device)
            logger.info("epoch %d step %d: student val top1 %.4f", epoch, step + 1, stats["top1"])
    return meter
