"""Lightning module: patch transformer for 24h-ahead gridded temperature forecasting.

Input (B, C, H, W) stacked variables at t, output (B, 1, H, W) t2m anomaly at t+24h.
Lightning switches train/eval itself around training_step / validation_step.
"""
import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F

from wb_data import WeatherBenchDataModule, latitude_weights


class Attention(nn.Module):
    def __init__(self, dim, heads, attn_drop=0.1, proj_drop=0.1):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.attn_drop = attn_drop
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x):
        b, n, c = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        x = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.attn_drop if self.training else 0.0
        )
        return self.proj_drop(self.proj(x.transpose(1, 2).reshape(b, n, c)))


class Block(nn.Module):
    def __init__(self, dim, heads, drop):
        super().__init__()
        self.n1, self.n2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, drop, drop)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Dropout(drop), nn.Linear(4 * dim, dim))

    def forward(self, x):
        x = x + self.attn(self.n1(x))
        return x + self.mlp(self.n2(x))


class LitForecaster(L.LightningModule):
    def __init__(self, in_vars=12, img=(32, 64), patch=2, dim=384, depth=8, heads=6, drop=0.1, lr=5e-4):
        super().__init__()
        self.save_hyperparameters()
        self.patch = patch
        self.grid = (img[0] // patch, img[1] // patch)
        self.embed = nn.Conv2d(in_vars, dim, patch, patch)
        self.pos = nn.Parameter(torch.zeros(1, self.grid[0] * self.grid[1], dim))
        self.blocks = nn.ModuleList(Block(dim, heads, drop) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, patch * patch)
        self.register_buffer("lat_w", latitude_weights(img[0]).view(1, 1, -1, 1))

    def forward(self, x):
        b = x.shape[0]
        h = self.embed(x).flatten(2).transpose(1, 2) + self.pos
        for blk in self.blocks:
            h = blk(h)
        h = self.head(self.norm(h))  # (B, N, p*p)
        h = h.view(b, *self.grid, self.patch, self.patch).permute(0, 1, 3, 2, 4)
        return h.reshape(b, 1, self.grid[0] * self.patch, self.grid[1] * self.patch)

    def _wmse(self, pred, y):
        return ((pred - y) ** 2 * self.lat_w).mean()

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self._wmse(self(x), y)
        self.log("train/wmse", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        pred = self(x)
        self.log("val/wrmse", self._wmse(pred, y).sqrt(), prog_bar=True, sync_dist=True)

    def test_step(self, batch, batch_idx):
        x, y = batch
        self.log("test/wrmse", self._wmse(self(x), y).sqrt(), sync_dist=True)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=0.05)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=self.trainer.max_epochs)
        return [opt], [sched]


if __name__ == "__main__":
    dm = WeatherBenchDataModule("data/weatherbench_5.625deg", lead_hours=24, batch_size=32)
    model = LitForecaster()
    trainer = L.Trainer(max_epochs=50, accelerator="gpu", devices=2, precision="bf16-mixed",
                        val_check_interval=0.5, gradient_clip_val=1.0)
    trainer.fit(model, datamodule=dm)
    trainer.test(model, datamodule=dm, ckpt_path="best")
