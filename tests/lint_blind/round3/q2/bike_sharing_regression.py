# Bike sharing demand - predict hourly rentals with a small PyTorch network.
# Udacity-style project, rewritten in plain PyTorch (no functions, just run top to bottom).
import numpy as np
import pandas as pd
import torch
import matplotlib.pyplot as plt

rides = pd.read_csv("Bike-Sharing-Dataset/hour.csv")
rides = rides.eval("is_weekend = weekday == 0 or weekday == 6")

for col in ["season", "weathersit", "mnth", "hr", "weekday"]:
    rides = pd.concat([rides, pd.get_dummies(rides[col], prefix=col)], axis=1)
rides = rides.drop(columns=["instant", "dteday", "season", "weathersit", "weekday",
                            "atemp", "mnth", "workingday", "hr"])

quant = ["casual", "registered", "cnt", "temp", "hum", "windspeed"]
scaled = {}
for q in quant:
    m, s = rides[q].mean(), rides[q].std()
    scaled[q] = (m, s)
    rides[q] = (rides[q] - m) / s

test_data = rides[-21 * 24:]
data = rides[:-21 * 24]
targets = ["cnt", "casual", "registered"]
train_feat, train_tgt = data.drop(columns=targets), data[targets]
val_feat, val_tgt = train_feat[-60 * 24:], train_tgt[-60 * 24:]
train_feat, train_tgt = train_feat[:-60 * 24], train_tgt[:-60 * 24]

Xtr = torch.tensor(train_feat.values.astype(np.float32))
ytr = torch.tensor(train_tgt["cnt"].values.astype(np.float32)).unsqueeze(1)
Xva = torch.tensor(val_feat.values.astype(np.float32))
yva = torch.tensor(val_tgt["cnt"].values.astype(np.float32)).unsqueeze(1)
Xte = torch.tensor(test_data.drop(columns=targets).values.astype(np.float32))

# one hidden layer with a sigmoid, like the original numpy project
net = torch.nn.Sequential(
    torch.nn.Linear(Xtr.shape[1], 24),
    torch.nn.Sigmoid(),
    torch.nn.Linear(24, 1),
)
opt = torch.optim.SGD(net.parameters(), lr=0.5)
mse = torch.nn.MSELoss()

losses = {"train": [], "validation": []}
for it in range(4000):
    batch = torch.randint(0, len(Xtr), (128,))
    loss = mse(net(Xtr[batch]), ytr[batch])
    opt.zero_grad()
    loss.backward()
    opt.step()

    if it % 20 == 0:
        with torch.no_grad():
            losses["train"].append(mse(net(Xtr), ytr).item())
            losses["validation"].append(mse(net(Xva), yva).item())
        print(f"\rProgress: {100 * it / 4000:.1f}% train {losses['train'][-1]:.3f} "
              f"val {losses['validation'][-1]:.3f}", end="")

plt.plot(losses["train"], label="Training loss")
plt.plot(losses["validation"], label="Validation loss")
plt.legend()
plt.ylim(top=1)
plt.show()

mean, std = scaled["cnt"]
with torch.no_grad():
    predictions = net(Xte).squeeze(1).numpy() * std + mean
fig, ax = plt.subplots(figsize=(10, 4))
ax.plot(predictions, label="Prediction")
ax.plot((test_data["cnt"] * std + mean).values, label="Data")
ax.set_xlim(right=len(predictions))
ax.legend()
plt.show()
