# %% [markdown]
# EMNIST letters with PyTorch Lightning - first time trying Lightning instead of a manual loop

# %%
import torch
import torch.nn as nn
import torch.nn.functional as F
import pytorch_lightning as pl
from torch.utils.data import DataLoader, random_split
from torchvision import datasets, transforms
import matplotlib.pyplot as plt

pl.seed_everything(7)

# %%
class LettersData(pl.LightningDataModule):
    def __init__(self, root="data", bs=256):
        super().__init__()
        self.root, self.bs = root, bs
        self.tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1722,), (0.3309,))])

    def setup(self, stage=None):
        full = datasets.EMNIST(self.root, split="letters", train=True, download=True, transform=self.tf)
        self.train_set, self.val_set = random_split(full, [110000, len(full) - 110000])
        self.test_set = datasets.EMNIST(self.root, split="letters", train=False, download=True, transform=self.tf)

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.bs, shuffle=True, num_workers=4)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=1024, num_workers=4)

    def test_dataloader(self):
        return DataLoader(self.test_set, batch_size=1024, num_workers=4)


# %%
class LetterNet(pl.LightningModule):
    def __init__(self, lr=1e-3):
        super().__init__()
        self.save_hyperparameters()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Dropout(0.4), nn.Linear(64 * 7 * 7, 27),
        )

    def forward(self, x):
        return self.body(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val_loss", F.cross_entropy(logits, y), prog_bar=True)
        self.log("val_acc", (logits.argmax(1) == y).float().mean(), prog_bar=True)

    def test_step(self, batch, batch_idx):
        x, y = batch
        self.log("test_acc", (self(x).argmax(1) == y).float().mean())

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.StepLR(opt, 4, 0.5)}


# %%
dm = LettersData()
model = LetterNet()
trainer = pl.Trainer(max_epochs=12, accelerator="auto", devices=1, log_every_n_steps=50)
trainer.fit(model, datamodule=dm)
trainer.test(model, datamodule=dm)

# %%
# look at some test letters
dm.setup("test")
imgs, labels = next(iter(dm.test_dataloader()))
model.eval()
with torch.no_grad():
    guesses = model(imgs[:20]).argmax(1)

fig, axes = plt.subplots(2, 10, figsize=(15, 3.5))
for ax, img, g, t in zip(axes.flat, imgs[:20], guesses, labels[:20]):
    ax.imshow(img[0].T, cmap="gray")     # EMNIST images are transposed
    ax.set_title(f"{chr(96 + g.item())} / {chr(96 + t.item())}")
    ax.axis("off")
plt.show()
