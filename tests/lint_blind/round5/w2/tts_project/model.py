"""Tacotron2-lite: text -> mel spectrogram."""
import torch
import torch.nn as nn

from .modules import AdditiveAttention, ConvBNBlock, Prenet, ZoneoutLSTMCell


class Encoder(nn.Module):
    def __init__(self, n_symbols, dim=512, n_convs=3):
        super().__init__()
        self.embedding = nn.Embedding(n_symbols, dim)
        self.convs = nn.Sequential(*[ConvBNBlock(dim, dim) for _ in range(n_convs)])
        self.lstm = nn.LSTM(dim, dim // 2, batch_first=True, bidirectional=True)

    def forward(self, tokens):
        x = self.convs(self.embedding(tokens).transpose(1, 2)).transpose(1, 2)
        out, _ = self.lstm(x)
        return out


class Decoder(nn.Module):
    def __init__(self, n_mels=80, enc_dim=512, rnn_dim=1024, prenet_dim=256, zoneout=0.1):
        super().__init__()
        self.n_mels = n_mels
        self.prenet = Prenet(n_mels, (prenet_dim, prenet_dim))
        self.attention_rnn = ZoneoutLSTMCell(prenet_dim + enc_dim, rnn_dim, zoneout)
        self.attention = AdditiveAttention(rnn_dim, enc_dim)
        self.decoder_rnn = ZoneoutLSTMCell(rnn_dim + enc_dim, rnn_dim, zoneout)
        self.mel_proj = nn.Linear(rnn_dim + enc_dim, n_mels)
        self.gate_proj = nn.Linear(rnn_dim + enc_dim, 1)

    def forward(self, memory, targets=None, max_steps=1000, gate_threshold=0.5):
        b, device = memory.size(0), memory.device
        processed = self.attention.preprocess(memory)
        att_state = self.attention_rnn.initial_state(b, device)
        dec_state = self.decoder_rnn.initial_state(b, device)
        context = memory.new_zeros(b, memory.size(2))
        frame = memory.new_zeros(b, self.n_mels)
        steps = targets.size(1) if targets is not None else max_steps
        mels, gates, aligns = [], [], []
        for t in range(steps):
            x = self.prenet(frame)
            att_state = self.attention_rnn(torch.cat([x, context], -1), att_state)
            context, w = self.attention(att_state[0], memory, processed)
            dec_state = self.decoder_rnn(torch.cat([att_state[0], context], -1), dec_state)
            out = torch.cat([dec_state[0], context], -1)
            mel, gate = self.mel_proj(out), self.gate_proj(out)
            mels.append(mel)
            gates.append(gate)
            aligns.append(w)
            if targets is not None:
                frame = targets[:, t]
            else:
                frame = mel
                if torch.sigmoid(gate).min() > gate_threshold:
                    break
        return torch.stack(mels, 1), torch.cat(gates, 1), torch.stack(aligns, 1)


class Postnet(nn.Module):
    def __init__(self, n_mels=80, dim=512, n_convs=5):
        super().__init__()
        blocks = [ConvBNBlock(n_mels, dim, activation="tanh")]
        blocks += [ConvBNBlock(dim, dim, activation="tanh") for _ in range(n_convs - 2)]
        blocks.append(ConvBNBlock(dim, n_mels, activation="linear"))
        self.net = nn.Sequential(*blocks)

    def forward(self, mel):
        return mel + self.net(mel.transpose(1, 2)).transpose(1, 2)


class Tacotron2Lite(nn.Module):
    def __init__(self, n_symbols, n_mels=80, zoneout=0.1):
        super().__init__()
        self.encoder = Encoder(n_symbols)
        self.decoder = Decoder(n_mels=n_mels, zoneout=zoneout)
        self.postnet = Postnet(n_mels)

    def forward(self, tokens, mel_targets=None, max_steps=1000):
        memory = self.encoder(tokens)
        mel, gate, align = self.decoder(memory, mel_targets, max_steps=max_steps)
        return self.postnet(mel), mel, gate, align


def build_tacotron(hparams):
    return Tacotron2Lite(n_symbols=hparams["n_symbols"], n_mels=hparams.get("n_mels", 80),
                         zoneout=hparams.get("zoneout", 0.1))
