"""CNN10-style audio tagger (AudioSet / FSD50K) on log-mel spectrograms."""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchaudio


class LogMelFrontend(nn.Module):
    def __init__(self, sr=32000, n_fft=1024, hop=320, n_mels=64, fmin=50, fmax=14000):
        super().__init__()
        self.mel = torchaudio.transforms.MelSpectrogram(sr, n_fft=n_fft, hop_length=hop, n_mels=n_mels,
                                                        f_min=fmin, f_max=fmax, power=2.0)
        self.to_db = torchaudio.transforms.AmplitudeToDB(top_db=None)
        self.bn0 = nn.BatchNorm2d(n_mels)

    def forward(self, wav):
        x = self.to_db(self.mel(wav)).unsqueeze(1)  # (B, 1, mel, T)
        x = x.transpose(1, 2)
        x = self.bn0(x)
        return x.transpose(1, 2).transpose(2, 3)  # (B, 1, T, mel)


class ConvBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)

    def forward(self, x, pool=(2, 2)):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        return F.avg_pool2d(x, pool)


class AudioTagger(nn.Module):
    def __init__(self, n_classes=527, freeze_frontend=True, spec_aug=True):
        super().__init__()
        self.frontend = LogMelFrontend()
        self.blocks = nn.ModuleList([ConvBlock(1, 64), ConvBlock(64, 128),
                                     ConvBlock(128, 256), ConvBlock(256, 512)])
        self.fc1 = nn.Linear(512, 512)
        self.fc_out = nn.Linear(512, n_classes)
        self.freeze_frontend = freeze_frontend
        self.spec_aug = spec_aug
        self.time_mask = torchaudio.transforms.TimeMasking(64)
        self.freq_mask = torchaudio.transforms.FrequencyMasking(8)

    def train(self, mode=True):  # expect: MG104
        super().train(mode)
        if self.freeze_frontend:
            # spectrogram normalisation statistics come from the full AudioSet pass
            self.frontend.eval()

    def forward(self, wav):
        x = self.frontend(wav)
        if self.training and self.spec_aug:
            x = self.freq_mask(self.time_mask(x.transpose(2, 3))).transpose(2, 3)
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i < len(self.blocks) - 1:
                x = F.dropout(x, p=0.2, training=self.training)
        x = x.mean(dim=3)
        x = x.max(dim=2).values + x.mean(dim=2)
        x = F.dropout(x, p=0.5)  # expect: MG201
        x = F.relu(self.fc1(x))
        x = F.dropout(x, p=0.5, training=self.training)
        return self.fc_out(x)


@torch.no_grad()
def tag_clip(net, wav, labels, top=5, chunk_s=10, sr=32000):
    """Tag a long recording by averaging sigmoid scores over 10 s windows."""
    net.eval()
    step = chunk_s * sr
    chunks = [wav[i:i + step] for i in range(0, max(len(wav) - step, 0) + 1, step)]
    chunks = [F.pad(c, (0, step - len(c))) for c in chunks]
    scores = torch.sigmoid(net(torch.stack(chunks))).mean(0)
    conf, idx = scores.topk(top)
    return [(labels[i], round(c, 3)) for i, c in zip(idx.tolist(), conf.tolist())]


if __name__ == "__main__":
    model = AudioTagger(n_classes=200)
    model.train()
    dummy = torch.randn(4, 32000 * 10)
    target = torch.randint(0, 2, (4, 200)).float()
    loss = F.binary_cross_entropy_with_logits(model(dummy), target)
    loss.backward()
    print("loss", loss.item())
    print(tag_clip(model, torch.randn(32000 * 25), [f"c{i}" for i in range(200)]))
