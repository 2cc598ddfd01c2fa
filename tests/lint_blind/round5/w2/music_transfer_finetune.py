"""Transfer a short-chunk CNN pretrained for MagnaTagATune auto-tagging to GTZAN genres."""
import argparse
import random

import numpy as np
import torch
import torch.nn as nn
import torchaudio

from tagging.data import GTZANChunks

GENRES = "blues classical country disco hiphop jazz metal pop reggae rock".split()


class ShortChunkCNN(nn.Module):
    def __init__(self, n_channels=128, n_mels=128, n_tags=50):
        super().__init__()
        self.spec = torchaudio.transforms.MelSpectrogram(16000, n_fft=512, f_min=0.0,
                                                         f_max=8000.0, n_mels=n_mels)
        self.to_db = torchaudio.transforms.AmplitudeToDB()
        self.spec_bn = nn.BatchNorm2d(1)
        chans = [1, n_channels, n_channels, n_channels * 2, n_channels * 2,
                 n_channels * 2, n_channels * 2, n_channels * 4]
        self.layers = nn.ModuleList()
        for cin, cout in zip(chans[:-1], chans[1:]):
            self.layers.append(nn.ModuleDict({
                "conv": nn.Conv2d(cin, cout, 3, padding=1),
                "bn": nn.BatchNorm2d(cout),
                "pool": nn.MaxPool2d(2),
            }))
        self.tag_fc = nn.Linear(chans[-1], n_tags)

    def embed(self, wav):
        x = self.spec_bn(self.to_db(self.spec(wav)).unsqueeze(1))
        for blk in self.layers:
            x = blk["pool"](torch.relu(blk["bn"](blk["conv"](x))))
        x = x.squeeze(2)
        return nn.functional.max_pool1d(x, x.size(-1)).squeeze(-1) if x.size(-1) > 1 else x.squeeze(-1)


class GenreClassifier(nn.Module):
    def __init__(self, backbone, n_out=len(GENRES)):
        super().__init__()
        self.backbone = backbone
        self.head = nn.Sequential(nn.Linear(512, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, n_out))

    def forward(self, wav):
        return self.head(self.backbone.embed(wav))


@torch.no_grad()
def evaluate_split(clf, loader, device):
    hits, count = 0, 0
    for wav, genre in loader:
        logits = clf(wav.to(device))  # expect: MG102
        hits += (logits.argmax(1).cpu() == genre).sum().item()
        count += genre.numel()
    return hits / count


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pretrained", default="weights/short_chunk_mtat.pth")
    ap.add_argument("--gtzan", default="/data/gtzan")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"

    backbone = ShortChunkCNN()
    backbone.load_state_dict(torch.load(args.pretrained, map_location="cpu"))
    for name, p in backbone.named_parameters():
        if "bn" in name:
            p.requires_grad = False  # expect: MG302
    clf = GenreClassifier(backbone).to(device)

    train_dl = torch.utils.data.DataLoader(GTZANChunks(args.gtzan, "train", seconds=3.69),
                                           batch_size=32, shuffle=True, drop_last=True)
    test_dl = torch.utils.data.DataLoader(GTZANChunks(args.gtzan, "test", seconds=3.69), batch_size=64)
    opt = torch.optim.Adam([p for p in clf.parameters() if p.requires_grad], lr=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    loss_fn = nn.CrossEntropyLoss()

    for ep in range(args.epochs):
        clf.train()
        epoch_loss = 0.0
        for wav, genre in train_dl:
            loss = loss_fn(clf(wav.to(device)), genre.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
            epoch_loss += loss.item()
        sched.step()
        print(f"epoch {ep:02d} train loss {epoch_loss / len(train_dl):.4f}")

    print(f"test accuracy: {evaluate_split(clf, test_dl, device):.4f}")
    torch.save(clf.state_dict(), "gtzan_transfer.pth")


if __name__ == "__main__":
    main()
