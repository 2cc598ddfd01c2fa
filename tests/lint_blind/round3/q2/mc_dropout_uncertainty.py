# %% [markdown]
# # Uncertainty with Monte-Carlo dropout (Gal & Ghahramani) on a toy regression problem
# Train a normal MLP with dropout, then at test time keep ONLY the dropout layers
# stochastic (BatchNorm stays in eval mode) and average many forward passes.

# %%
import numpy as np
import torch
import torch.nn as nn
import matplotlib.pyplot as plt

torch.manual_seed(0)
rng = np.random.default_rng(0)

# %%
x_train = np.concatenate([rng.uniform(-4, -1, 150), rng.uniform(1, 4, 150)]).astype(np.float32)
y_train = (np.sin(x_train) * x_train + 0.3 * rng.standard_normal(x_train.shape)).astype(np.float32)
x_grid = np.linspace(-6, 6, 400).astype(np.float32)

X = torch.from_numpy(x_train).unsqueeze(1)
Y = torch.from_numpy(y_train).unsqueeze(1)
G = torch.from_numpy(x_grid).unsqueeze(1)

# %%
mlp = nn.Sequential(
    nn.Linear(1, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Dropout(0.1),
    nn.Linear(128, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Dropout(0.1),
    nn.Linear(128, 1),
)
opt = torch.optim.Adam(mlp.parameters(), lr=3e-3, weight_decay=1e-4)

# %%
mlp.train()
for step in range(3000):
    idx = torch.randint(0, len(X), (64,))
    loss = nn.functional.mse_loss(mlp(X[idx]), Y[idx])
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 500 == 0:
        print(step, round(loss.item(), 4))

# %%
def enable_mc_dropout(module):
    """Put the whole net in eval mode, then switch only the dropout layers back on."""
    module.eval()
    for sub in module.modules():
        if isinstance(sub, nn.Dropout):
            sub.train()


def mc_predict(module, inputs, passes=100):
    enable_mc_dropout(module)
    with torch.no_grad():
        draws = torch.stack([module(inputs) for _ in range(passes)])
    return draws.mean(0).squeeze(1).numpy(), draws.std(0).squeeze(1).numpy()


mean, std = mc_predict(mlp, G)

# deterministic prediction for comparison
mlp.eval()
with torch.no_grad():
    point = mlp(G).squeeze(1).numpy()

# %%
plt.figure(figsize=(9, 4))
plt.scatter(x_train, y_train, s=6, c="k", alpha=0.5, label="train")
plt.plot(x_grid, point, "C1", label="eval-mode prediction")
plt.plot(x_grid, mean, "C0", label="MC mean")
plt.fill_between(x_grid, mean - 2 * std, mean + 2 * std, color="C0", alpha=0.25, label="±2 std")
plt.legend()
plt.title("MC dropout: uncertainty grows away from the data")
plt.show()
