"""BiLSTM-CRF sequence tagger with character CNN features."""
import torch
import torch.nn as nn

from torchcrf import CRF


class CharCNN(nn.Module):
    def __init__(self, n_chars, dim=30, filters=50, width=3, p=0.5):
        super().__init__()
        self.emb = nn.Embedding(n_chars, dim, padding_idx=0)
        self.conv = nn.Conv1d(dim, filters, width, padding=1)
        self.drop = nn.Dropout(p)

    def forward(self, chars):
        b, t, w = chars.shape
        x = self.drop(self.emb(chars.view(b * t, w))).transpose(1, 2)
        return self.conv(x).max(dim=-1).values.view(b, t, -1)


class BiLSTMCRF(nn.Module):
    def __init__(self, n_words, n_chars, n_tags, word_dim=100, hidden=200, p=0.5, pretrained=None):
        super().__init__()
        self.word_emb = nn.Embedding(n_words, word_dim, padding_idx=0)
        if pretrained is not None:
            self.word_emb.weight.data.copy_(pretrained)
        self.char_cnn = CharCNN(n_chars, p=p)
        self.in_drop = nn.Dropout(p)
        self.lstm = nn.LSTM(word_dim + 50, hidden, batch_first=True, bidirectional=True)
        self.out_drop = nn.Dropout(p)
        self.emit = nn.Linear(2 * hidden, n_tags)
        self.crf = CRF(n_tags, batch_first=True)

    def _emissions(self, words, chars):
        x = torch.cat([self.word_emb(words), self.char_cnn(chars)], dim=-1)
        h, _ = self.lstm(self.in_drop(x))
        return self.emit(self.out_drop(h))

    def neg_log_likelihood(self, words, chars, tags, mask):
        return -self.crf(self._emissions(words, chars), tags, mask=mask, reduction="mean")

    def forward(self, words, chars, mask):
        return self.crf.decode(self._emissions(words, chars), mask=mask)


def build_tagger(vocab, char_vocab, tag_vocab, cfg, embeddings=None):
    return BiLSTMCRF(len(vocab), len(char_vocab), len(tag_vocab),
                     word_dim=cfg.get("word_dim", 100), hidden=cfg.get("hidden", 200),
                     p=cfg.get("dropout", 0.5), pretrained=embeddings)
