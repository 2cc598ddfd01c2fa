import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.models as tvm


class MomentumContrast(nn.Module):
    """MoCo-v2 style model: query encoder, momentum key encoder and a negative queue.

    The key encoder is never trained by SGD; we keep it in inference mode so that its
    BatchNorm layers use the statistics copied from the query encoder.
    """

    def __init__(self, arch="resnet50", dim=128, queue_size=65536, m=0.999, T=0.2, mlp=True):
        super().__init__()
        self.K, self.m, self.T = queue_size, m, T
        self.encoder_q = tvm.__dict__[arch](num_classes=dim)
        self.encoder_k = tvm.__dict__[arch](num_classes=dim)
        if mlp:
            hid = self.encoder_q.fc.weight.shape[1]
            self.encoder_q.fc = nn.Sequential(nn.Linear(hid, hid), nn.ReLU(), self.encoder_q.fc)
            self.encoder_k.fc = nn.Sequential(nn.Linear(hid, hid), nn.ReLU(), self.encoder_k.fc)
        for pq, pk in zip(self.encoder_q.parameters(), self.encoder_k.parameters()):
            pk.data.copy_(pq.data)
            pk.requires_grad = False
        self.register_buffer("queue", F.normalize(torch.randn(dim, queue_size), dim=0))
        self.register_buffer("queue_ptr", torch.zeros(1, dtype=torch.long))

    def train(self, mode=True):  # expect: MG104
        self.training = mode
        self.encoder_q.train(mode)
        self.encoder_k.eval()

    @torch.no_grad()
    def _momentum_update(self):
        for pq, pk in zip(self.encoder_q.parameters(), self.encoder_k.parameters()):
            pk.data.mul_(self.m).add_(pq.data, alpha=1.0 - self.m)
        for bq, bk in zip(self.encoder_q.buffers(), self.encoder_k.buffers()):
            bk.copy_(bq)

    @torch.no_grad()
    def _enqueue(self, keys):
        bs = keys.shape[0]
        ptr = int(self.queue_ptr)
        assert self.K % bs == 0
        self.queue[:, ptr:ptr + bs] = keys.T
        self.queue_ptr[0] = (ptr + bs) % self.K

    def forward(self, im_q, im_k):
        q = F.normalize(self.encoder_q(im_q), dim=1)
        with torch.no_grad():
            self._momentum_update()
            k = F.normalize(self.encoder_k(im_k), dim=1)
        l_pos = torch.einsum("nc,nc->n", q, k).unsqueeze(-1)
        l_neg = torch.einsum("nc,ck->nk", q, self.queue.clone().detach())
        logits = torch.cat([l_pos, l_neg], dim=1) / self.T
        labels = torch.zeros(logits.shape[0], dtype=torch.long, device=logits.device)
        self._enqueue(k)
        return logits, labels


def pretrain(loader, epochs=200, lr=0.03, device="cuda"):
    model = MomentumContrast().to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    for epoch in range(epochs):
        model.train()
        for (view1, view2), _ in loader:
            logits, labels = model(view1.to(device, non_blocking=True), view2.to(device, non_blocking=True))
            loss = F.cross_entropy(logits, labels)
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        torch.save(model.state_dict(), f"moco_ep{epoch:03d}.pth")
    return model
