"""SASRec next-item recommendation as a LightningModule.

Validation ranks the held-out next item against 100 sampled negatives (HR@10 / NDCG@10).
"""
import math

import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F


class CausalBlock(nn.Module):
    def __init__(self, dim, heads, p):
        super().__init__()
        self.heads = heads
        self.p = p
        self.ln_attn = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.ln_ffn = nn.LayerNorm(dim)
        self.ff1 = nn.Linear(dim, dim)
        self.ff2 = nn.Linear(dim, dim)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln_attn(x)).chunk(3, dim=-1)
        q, k, v = (z.view(b, t, self.heads, -1).transpose(1, 2) for z in (q, k, v))
        att = F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                             dropout_p=self.p if self.training else 0.0)
        x = x + F.dropout(self.proj(att.transpose(1, 2).reshape(b, t, d)), self.p, training=self.training)
        h = F.dropout(F.relu(self.ff1(self.ln_ffn(x))), self.p, training=self.training)
        return x + F.dropout(self.ff2(h), self.p, training=self.training)


class SASRec(L.LightningModule):
    def __init__(self, n_items, max_len=200, dim=64, blocks=2, heads=1, dropout=0.2, lr=1e-3):
        super().__init__()
        self.save_hyperparameters()
        self.item_emb = nn.Embedding(n_items + 1, dim, padding_idx=0)
        self.pos_emb = nn.Embedding(max_len, dim)
        self.emb_drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([CausalBlock(dim, heads, dropout) for _ in range(blocks)])
        self.ln = nn.LayerNorm(dim)

    def encode(self, seq):
        pos = torch.arange(seq.size(1), device=seq.device)
        x = self.item_emb(seq) * math.sqrt(self.hparams.dim) + self.pos_emb(pos)
        x = self.emb_drop(x) * seq.ne(0).unsqueeze(-1)
        for blk in self.blocks:
            x = blk(x)
        return self.ln(x)

    def training_step(self, batch, batch_idx):
        seq, pos, neg = batch
        h = self.encode(seq)
        pos_logit = (h * self.item_emb(pos)).sum(-1)
        neg_logit = (h * self.item_emb(neg)).sum(-1)
        mask = pos.ne(0)
        loss = (F.binary_cross_entropy_with_logits(pos_logit[mask], torch.ones_like(pos_logit[mask]))
                + F.binary_cross_entropy_with_logits(neg_logit[mask], torch.zeros_like(neg_logit[mask])))
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        seq, candidates = batch  # candidates[:, 0] is the true next item
        last = self.encode(seq)[:, -1]
        scores = torch.einsum("bd,bcd->bc", last, self.item_emb(candidates))
        rank = (scores > scores[:, :1]).sum(1)
        hit = (rank < 10).float()
        ndcg = hit / torch.log2(rank.float() + 2)
        self.log_dict({"val/hr@10": hit.mean(), "val/ndcg@10": ndcg.mean()}, prog_bar=True)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr, betas=(0.9, 0.98))


if __name__ == "__main__":
    from seqrec.data import ML1MDataModule

    dm = ML1MDataModule("/data/ml-1m", max_len=200, batch_size=128)
    model = SASRec(dm.n_items)
    trainer = L.Trainer(max_epochs=200, check_val_every_n_epoch=5, accelerator="auto")
    trainer.fit(model, datamodule=dm)
