"""AWD-LSTM language model with the usual zoo of dropouts, plus an MC-dropout
uncertainty head used by the active-learning experiments."""
import torch
import torch.nn as nn
import torch.nn.functional as F


def embedded_dropout(embed: nn.Embedding, words, dropout=0.1, scale=None):
    """Drops whole word types (rows of the embedding matrix)."""
    if dropout:
        mask = embed.weight.new_empty((embed.weight.size(0), 1)).bernoulli_(1 - dropout) / (1 - dropout)
        weight = mask * embed.weight
    else:
        weight = embed.weight
    if scale is not None:
        weight = scale.expand_as(weight) * weight
    return F.embedding(words, weight, embed.padding_idx, embed.max_norm, embed.norm_type,
                       embed.scale_grad_by_freq, embed.sparse)


class LockedDropout(nn.Module):
    """Same dropout mask at every time step (input is seq-first)."""

    def forward(self, x, p=0.5):
        if not self.training or not p:
            return x
        mask = x.new_empty(1, x.size(1), x.size(2)).bernoulli_(1 - p) / (1 - p)
        return mask * x


class WeightDropLSTM(nn.LSTM):
    """LSTM with DropConnect on the hidden-to-hidden weights."""

    def __init__(self, *args, weight_dropout=0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.weight_dropout = weight_dropout
        self._raw = nn.Parameter(self.weight_hh_l0.detach().clone())
        del self._parameters["weight_hh_l0"]

    def flatten_parameters(self):
        pass

    def forward(self, x, hx=None):
        w = F.dropout(self._raw, p=self.weight_dropout, training=self.training)
        setattr(self, "weight_hh_l0", w)
        return super().forward(x, hx)


class AWDLSTM(nn.Module):
    def __init__(self, ntoken, ninp=400, nhid=1150, nlayers=3, dropout=0.4, dropouth=0.3, dropouti=0.65,
                 dropoute=0.1, wdrop=0.5):
        super().__init__()
        self.lockdrop = LockedDropout()
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnns = nn.ModuleList([
            WeightDropLSTM(ninp if l == 0 else nhid, nhid if l != nlayers - 1 else ninp, 1, weight_dropout=wdrop)
            for l in range(nlayers)
        ])
        self.decoder = nn.Linear(ninp, ntoken)
        self.decoder.weight = self.encoder.weight
        self.dropout, self.dropouth, self.dropouti, self.dropoute = dropout, dropouth, dropouti, dropoute

    def forward(self, tokens, hidden):
        emb = embedded_dropout(self.encoder, tokens, dropout=self.dropoute if self.training else 0)
        out = self.lockdrop(emb, self.dropouti)
        new_hidden = []
        for l, rnn in enumerate(self.rnns):
            out, h = rnn(out, hidden[l])
            new_hidden.append(h)
            out = self.lockdrop(out, self.dropouth if l != len(self.rnns) - 1 else self.dropout)
        return self.decoder(out), new_hidden


class ConvTextEncoder(nn.Module):
    def __init__(self, vocab, dim=300, channels=256, p_spatial=0.2, p_out=0.5):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim, padding_idx=0)
        self.conv = nn.Conv1d(dim, channels, 5, padding=2)
        self.p_spatial, self.p_out = p_spatial, p_out

    def forward(self, tokens):
        x = self.emb(tokens).transpose(1, 2)              # (B, dim, T)
        x = F.dropout1d(x, self.p_spatial, self.training)  # drops whole embedding channels
        x = F.relu(self.conv(x)).max(dim=2).values
        return F.dropout(x, self.p_out, self.training)


class MCDropoutHead(nn.Module):
    """Classifier head whose dropout can be kept on at inference for MC sampling.

    Sampling is opt-in: call `enable_sampling()` explicitly before `predict_mc`.
    """

    def __init__(self, d_in, n_classes, p=0.3):
        super().__init__()
        self.fc1 = nn.Linear(d_in, 256)
        self.fc2 = nn.Linear(256, n_classes)
        self.p = p
        self.mc_sampling = False

    def enable_sampling(self, flag: bool = True):
        self.mc_sampling = flag
        return self

    def forward(self, h):
        h = F.relu(self.fc1(h))
        h = F.dropout(h, p=self.p, training=self.training or self.mc_sampling)
        return self.fc2(h)

    @torch.no_grad()
    def predict_mc(self, h, n_samples=20):
        assert self.mc_sampling, "call enable_sampling() first"
        probs = torch.stack([F.softmax(self(h), dim=-1) for _ in range(n_samples)])
        return probs.mean(0), probs.var(0).sum(-1)
