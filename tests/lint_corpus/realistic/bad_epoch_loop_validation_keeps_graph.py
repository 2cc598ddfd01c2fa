"""Notebook-style regression on tabular data: each epoch ends with a full-batch validation pass.

That validation forward runs with autograd enabled, so it builds (and holds on to) a graph over the
whole validation set for nothing; it belongs under torch.no_grad().
"""
import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

data = np.load("housing.npz")
X_train = torch.tensor(data["X_train"], dtype=torch.float32)
y_train = torch.tensor(data["y_train"], dtype=torch.float32).unsqueeze(1)
X_val = torch.tensor(data["X_val"], dtype=torch.float32)
y_val = torch.tensor(data["y_val"], dtype=torch.float32).unsqueeze(1)

loader = DataLoader(TensorDataset(X_train, y_train), batch_size=64, shuffle=True)

net = nn.Sequential(
    nn.Linear(X_train.shape[1], 128),
    nn.ReLU(),
    nn.Dropout(0.25),
    nn.Linear(128, 64),
    nn.ReLU(),
    nn.Dropout(0.25),
    nn.Linear(64, 1),
)
loss_fn = nn.MSELoss()
optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)

for epoch in range(200):
    net.train()
    running = 0.0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(net(xb), yb)
        loss.backward()
        optimizer.step()
        running += loss.item() * len(xb)

    net.eval()
    val_out = net(X_val)  # expect: MG401
    val_loss = loss_fn(val_out, y_val)
    print(f"epoch {epoch:3d}  train {running / len(X_train):.4f}  val {val_loss.item():.4f}")

torch.save(net.state_dict(), "mlp_housing.pt")
