"""Spectrogram-masking separator (Open-Unmix flavoured, one network per target)."""
import torch
import torch.nn as nn


class MaskNet(nn.Module):
    def __init__(self, n_bins=2049, max_bin=1487, hidden=512, nb_channels=2,
                 lstm_layers=3, lstm_dropout=0.4, input_mean=None, input_scale=None,
                 freeze_input_bn=False):
        super().__init__()
        self.n_bins = n_bins
        self.max_bin = max_bin
        self.hidden = hidden
        self.nb_channels = nb_channels

        mean = torch.zeros(max_bin) if input_mean is None else -torch.as_tensor(input_mean[:max_bin])
        scale = torch.ones(max_bin) if input_scale is None else 1.0 / torch.as_tensor(input_scale[:max_bin])
        self.input_mean = nn.Parameter(mean.float())
        self.input_scale = nn.Parameter(scale.float())
        self.output_scale = nn.Parameter(torch.ones(n_bins))
        self.output_mean = nn.Parameter(torch.ones(n_bins))

        self.fc1 = nn.Linear(max_bin * nb_channels, hidden, bias=False)
        self.bn1 = nn.BatchNorm1d(hidden)
        self.lstm = nn.LSTM(hidden, hidden // 2, num_layers=lstm_layers, bidirectional=True,
                            batch_first=False, dropout=lstm_dropout if lstm_layers > 1 else 0.0)
        self.fc2 = nn.Linear(hidden * 2, hidden, bias=False)
        self.bn2 = nn.BatchNorm1d(hidden)
        self.fc3 = nn.Linear(hidden, n_bins * nb_channels, bias=False)
        self.bn3 = nn.BatchNorm1d(n_bins * nb_channels)
        self.freeze_input_bn = freeze_input_bn

    def train(self, mode: bool = True):
        # when fine-tuning on a small stem set we keep the statistics of the
        # input normaliser from the big pre-training run
        super().train(mode)
        if self.freeze_input_bn:
            self.bn1.eval()
        return self

    def forward(self, mag):
        """mag: (batch, channels, bins, frames) magnitude spectrogram -> same shape."""
        x = mag.permute(3, 0, 1, 2)  # frames, batch, ch, bins
        T, B, C, _ = x.shape
        mix = x.detach().clone()
        x = x[..., : self.max_bin]
        x = (x + self.input_mean) * self.input_scale

        x = self.fc1(x.reshape(-1, C * self.max_bin))
        x = torch.tanh(self.bn1(x)).reshape(T, B, self.hidden)
        lstm_out, _ = self.lstm(x)
        x = torch.cat([x, lstm_out], dim=-1)
        x = torch.relu(self.bn2(self.fc2(x.reshape(-1, x.shape[-1]))))
        x = self.bn3(self.fc3(x)).reshape(T, B, C, self.n_bins)
        x = x * self.output_scale + self.output_mean
        mask = torch.relu(x)
        return (mask * mix).permute(1, 2, 3, 0)


def load_separator(path, device="cpu", **overrides):
    ckpt = torch.load(path, map_location="cpu")
    kwargs = dict(ckpt["hparams"])
    kwargs.update(overrides)
    net = MaskNet(**kwargs)
    net.load_state_dict(ckpt["state_dict"])
    return net.to(device)
