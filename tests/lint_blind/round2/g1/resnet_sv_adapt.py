"""Domain adaptation of a ResNet-34 speaker verification model to far-field audio.

Only ~2k far-field utterances are available, so batches are small: the pretrained
BatchNorm statistics are kept fixed for the stem and the first two stages
(``frozen_stages``), while later stages adapt.
"""
import argparse

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader

from sv_data import FarFieldTrials, FarFieldUtterances
from sv_metrics import compute_eer


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.n1 = nn.BatchNorm2d(cout, momentum=0.1)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.n2 = nn.BatchNorm2d(cout, momentum=0.1)
        self.short = nn.Sequential()
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        return F.relu(self.n2(self.c2(F.relu(self.n1(self.c1(x))))) + self.short(x))


class ResNetSV(nn.Module):
    def __init__(self, layers=(3, 4, 6, 3), width=32, emb=256, frozen_stages=2):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        stages, cin = [], width
        for i, n in enumerate(layers):
            cout = width * 2 ** i
            blocks = [BasicBlock(cin, cout, 1 if i == 0 else 2)] + [BasicBlock(cout, cout, 1) for _ in range(n - 1)]
            stages.append(nn.Sequential(*blocks))
            cin = cout
        self.stages = nn.ModuleList(stages)
        self.pool_attn = nn.Sequential(nn.Conv1d(cin * 10, 128, 1), nn.ReLU(), nn.BatchNorm1d(128),
                                       nn.Conv1d(128, cin * 10, 1), nn.Softmax(dim=2))
        self.fc = nn.Linear(cin * 20, emb)
        self.bn_out = nn.BatchNorm1d(emb, momentum=None)
        self.frozen_stages = frozen_stages

    def _fixed_modules(self):
        yield self.stem
        yield from self.stages[: self.frozen_stages]

    def freeze_bn_stats(self):
        for part in self._fixed_modules():
            for m in part.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.eval()
                    m.weight.requires_grad_(False)
                    m.bias.requires_grad_(False)

    def train(self, mode=True):
        super().train(mode)
        if mode:
            self.freeze_bn_stats()
        return self

    def forward(self, fbank):
        h = self.stem(fbank.unsqueeze(1))
        for st in self.stages:
            h = st(h)
        h = h.flatten(1, 2)
        w = self.pool_attn(h)
        mu = (h * w).sum(-1)
        sd = ((h ** 2 * w).sum(-1) - mu ** 2).clamp(min=1e-5).sqrt()
        return self.bn_out(self.fc(torch.cat([mu, sd], 1)))


@torch.no_grad()
def trial_eer(net, trials, device):
    net.eval()
    embs = {}
    for utt_id, feats in trials.utterances():
        embs[utt_id] = F.normalize(net(feats.to(device)[None]), dim=-1)[0].cpu()
    scores = np.array([float(embs[a] @ embs[b]) for a, b, _ in trials.pairs])
    labels = np.array([lab for _, _, lab in trials.pairs])
    return compute_eer(scores, labels)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--init", default="pretrained/resnet34_vox2.pt")
    ap.add_argument("--epochs", type=int, default=10)
    args = ap.parse_args()
    device = "cuda"

    net = ResNetSV()
    net.load_state_dict(torch.load(args.init, map_location="cpu")["model"], strict=False)
    net.to(device).train()  # applies the BN freeze before the optimizer is built
    utts = FarFieldUtterances("data/farfield/train")
    loader = DataLoader(utts, batch_size=16, shuffle=True, drop_last=True, num_workers=4)
    trials = FarFieldTrials("data/farfield/trials.txt")
    classifier = nn.Linear(256, utts.num_speakers).to(device)
    params = [p for p in list(net.parameters()) + list(classifier.parameters()) if p.requires_grad]
    opt = torch.optim.SGD(params, lr=1e-3, momentum=0.9, weight_decay=1e-4)

    for epoch in range(args.epochs):
        net.train()
        for fb, spk in loader:
            logits = classifier(F.normalize(net(fb.to(device)), dim=-1)) * 30.0
            loss = F.cross_entropy(logits, spk.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f"epoch {epoch}: loss {loss.item():.3f} EER {100 * trial_eer(net, trials, device):.2f}%")


if __name__ == "__main__":
    main()
