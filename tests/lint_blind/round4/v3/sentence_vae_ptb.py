"""Sentence VAE (Bowman et al. 2016) on Penn Treebank with KL annealing and word dropout."""
import argparse
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ptb import PTBCorpus, PAD, SOS, UNK


class SentenceVAE(nn.Module):
    def __init__(self, vocab, emb=300, hid=256, latent=16, word_dropout=0.38, embed_dropout=0.5):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb, padding_idx=PAD)
        self.embed_drop = nn.Dropout(embed_dropout)
        self.encoder = nn.GRU(emb, hid, batch_first=True, bidirectional=True)
        self.to_mu = nn.Linear(2 * hid, latent)
        self.to_logvar = nn.Linear(2 * hid, latent)
        self.latent_to_h = nn.Linear(latent, hid)
        self.decoder = nn.GRU(emb, hid, batch_first=True)
        self.out = nn.Linear(hid, vocab)
        self.word_dropout_rate = word_dropout

    def forward(self, tokens, lengths):
        e = self.embed_drop(self.embedding(tokens))
        packed = pack_padded_sequence(e, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, h = self.encoder(packed)
        h = torch.cat([h[0], h[1]], dim=-1)
        mu, logvar = self.to_mu(h), self.to_logvar(h)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()

        if not self.training:
            self.word_dropout_rate = 0.0  # expect: MG203
        dec_tokens = tokens.clone()
        if self.word_dropout_rate > 0:
            r = torch.rand(tokens.shape, device=tokens.device)
            r[(tokens == SOS) | (tokens == PAD)] = 1.0
            dec_tokens[r < self.word_dropout_rate] = UNK
        d = self.embed_drop(self.embedding(dec_tokens))
        packed = pack_padded_sequence(d, lengths.cpu(), batch_first=True, enforce_sorted=False)
        h0 = torch.tanh(self.latent_to_h(z)).unsqueeze(0)
        out, _ = self.decoder(packed, h0)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=tokens.size(1))
        return F.log_softmax(self.out(out), dim=-1), mu, logvar


def kl_weight(step, k=0.0025, x0=2500):
    return float(1 / (1 + math.exp(-k * (step - x0))))


def elbo_terms(logp, targets, mu, logvar):
    nll = F.nll_loss(logp.reshape(-1, logp.size(-1)), targets.reshape(-1), ignore_index=PAD, reduction="sum")
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return nll, kl


def evaluate_nll(model, loader, device):
    model.eval()
    tot_nll, tot_kl, n_words = 0.0, 0.0, 0
    for inp, tgt, lengths in loader:
        inp, tgt = inp.to(device), tgt.to(device)
        logp, mu, logvar = model(inp, lengths)  # expect: MG401
        nll, kl = elbo_terms(logp, tgt, mu, logvar)
        tot_nll += nll.item()
        tot_kl += kl.item()
        n_words += int((tgt != PAD).sum())
    return tot_nll / n_words, tot_kl / len(loader.dataset), math.exp((tot_nll + tot_kl) / n_words)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default="data/ptb")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=32)
    args = ap.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    corpus = PTBCorpus(args.data_dir, max_len=60)
    train_loader = corpus.loader("train", args.batch_size, shuffle=True)
    valid_loader = corpus.loader("valid", args.batch_size)
    model = SentenceVAE(len(corpus.vocab)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    step = 0
    for epoch in range(args.epochs):
        model.train()
        for inp, tgt, lengths in train_loader:
            inp, tgt = inp.to(device), tgt.to(device)
            logp, mu, logvar = model(inp, lengths)
            nll, kl = elbo_terms(logp, tgt, mu, logvar)
            loss = (nll + kl_weight(step) * kl) / inp.size(0)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
        v_nll, v_kl, v_ppl = evaluate_nll(model, valid_loader, device)
        print(f"epoch {epoch}: valid NLL/word {v_nll:.3f} KL {v_kl:.2f} PPL {v_ppl:.1f}")


if __name__ == "__main__":
    main()
