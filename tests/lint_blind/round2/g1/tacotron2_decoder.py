"""Autoregressive mel decoder of Tacotron 2 (prenet, attention RNN, decoder RNN) and postnet."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Prenet(nn.Module):
    """Two ReLU layers with dropout that is *always* on.

    Tacotron 2 (Shen et al., 2018, sec. 2.3): "in order to introduce output variation at
    inference time, dropout with probability 0.5 is applied only to layers in the pre-net
    of the autoregressive decoder". Turning it off at synthesis time makes the attention
    collapse, so it deliberately ignores self.training.
    """

    def __init__(self, in_dim, sizes=(256, 256), p=0.5):
        super().__init__()
        dims = [in_dim] + list(sizes)
        self.layers = nn.ModuleList(nn.Linear(a, b, bias=False) for a, b in zip(dims[:-1], dims[1:]))
        self.p = p

    def forward(self, x):
        for lin in self.layers:
            x = F.dropout(F.relu(lin(x)), p=self.p, training=True)  # intentional: active at inference too
        return x


class LocationAttention(nn.Module):
    def __init__(self, rnn_dim, enc_dim, att_dim=128, n_filters=32, kernel=31):
        super().__init__()
        self.q = nn.Linear(rnn_dim, att_dim, bias=False)
        self.m = nn.Linear(enc_dim, att_dim, bias=False)
        self.loc_conv = nn.Conv1d(2, n_filters, kernel, padding=kernel // 2, bias=False)
        self.loc_proj = nn.Linear(n_filters, att_dim, bias=False)
        self.v = nn.Linear(att_dim, 1, bias=False)

    def forward(self, query, memory, processed_mem, cum_weights, prev_weights, mask):
        loc = self.loc_proj(self.loc_conv(torch.stack([prev_weights, cum_weights], 1)).transpose(1, 2))
        energies = self.v(torch.tanh(self.q(query)[:, None] + processed_mem + loc)).squeeze(-1)
        energies = energies.masked_fill(~mask, -1e9)
        w = F.softmax(energies, dim=1)
        return torch.bmm(w[:, None], memory).squeeze(1), w


class MelDecoder(nn.Module):
    def __init__(self, n_mels=80, enc_dim=512, rnn_dim=1024, p_att=0.1, p_dec=0.1):
        super().__init__()
        self.n_mels = n_mels
        self.prenet = Prenet(n_mels)
        self.att_rnn = nn.LSTMCell(256 + enc_dim, rnn_dim)
        self.attention = LocationAttention(rnn_dim, enc_dim)
        self.dec_rnn = nn.LSTMCell(rnn_dim + enc_dim, rnn_dim)
        self.mel_proj = nn.Linear(rnn_dim + enc_dim, n_mels)
        self.gate = nn.Linear(rnn_dim + enc_dim, 1)
        self.p_att, self.p_dec = p_att, p_dec

    def step(self, prev_mel, state, memory, pmem, mask):
        (ah, ac), (dh, dc), ctx, cum_w, w = state
        x = self.prenet(prev_mel)
        ah, ac = self.att_rnn(torch.cat([x, ctx], -1), (ah, ac))
        ah = F.dropout(ah, self.p_att, training=self.training)
        ctx, w = self.attention(ah, memory, pmem, cum_w, w, mask)
        dh, dc = self.dec_rnn(torch.cat([ah, ctx], -1), (dh, dc))
        dh = F.dropout(dh, self.p_dec, training=self.training)
        out = torch.cat([dh, ctx], -1)
        return self.mel_proj(out), self.gate(out).squeeze(-1), ((ah, ac), (dh, dc), ctx, cum_w + w, w)

    def init_state(self, memory):
        b, t, _ = memory.shape
        z = lambda d: memory.new_zeros(b, d)
        return ((z(1024), z(1024)), (z(1024), z(1024)), z(memory.size(2)), memory.new_zeros(b, t),
                memory.new_zeros(b, t))

    def forward(self, memory, mask, mels):
        """Teacher-forced decoding; mels: (B, T, n_mels)."""
        pmem = self.attention.m(memory)
        state = self.init_state(memory)
        prev = memory.new_zeros(memory.size(0), self.n_mels)
        outs, gates = [], []
        for t in range(mels.size(1)):
            mel, g, state = self.step(prev, state, memory, pmem, mask)
            outs.append(mel)
            gates.append(g)
            prev = mels[:, t]
        return torch.stack(outs, 1), torch.stack(gates, 1)


class Postnet(nn.Module):
    def __init__(self, n_mels=80, ch=512, k=5, n=5, p=0.5):
        super().__init__()
        layers = []
        for i in range(n):
            cin, cout = (n_mels if i == 0 else ch), (n_mels if i == n - 1 else ch)
            layers += [nn.Conv1d(cin, cout, k, padding=k // 2), nn.BatchNorm1d(cout)]
            if i < n - 1:
                layers.append(nn.Tanh())
            layers.append(nn.Dropout(p))
        self.net = nn.Sequential(*layers)

    def forward(self, mel):
        return mel + self.net(mel.transpose(1, 2)).transpose(1, 2)


@torch.inference_mode()
def synthesize(encoder, decoder, postnet, text_ids, max_frames=1000, gate_threshold=0.5):
    for m in (encoder, decoder, postnet):
        m.eval()
    memory = encoder(text_ids)
    mask = torch.ones(memory.shape[:2], dtype=torch.bool, device=memory.device)
    pmem = decoder.attention.m(memory)
    state = decoder.init_state(memory)
    prev = memory.new_zeros(memory.size(0), decoder.n_mels)
    frames = []
    for _ in range(max_frames):
        prev, gate, state = decoder.step(prev, state, memory, pmem, mask)
        frames.append(prev)
        if torch.sigmoid(gate).item() > gate_threshold:
            break
    return postnet(torch.stack(frames, 1))
