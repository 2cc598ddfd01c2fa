# Digit Recognizer: my Keras CNN (0.995 public LB) rewritten in PyTorch.
# Kept the same hyper-parameters as the Keras version.
import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset, random_split

torch.manual_seed(0)
dev = "cuda" if torch.cuda.is_available() else "cpu"

train_df = pd.read_csv("/kaggle/input/digit-recognizer/train.csv")
test_df = pd.read_csv("/kaggle/input/digit-recognizer/test.csv")
X = torch.tensor(train_df.drop(columns="label").values, dtype=torch.float32).view(-1, 1, 28, 28) / 255.0
y = torch.tensor(train_df["label"].values)
X_test = torch.tensor(test_df.values, dtype=torch.float32).view(-1, 1, 28, 28) / 255.0

full = TensorDataset(X, y)
n_val = 4200
tr_set, va_set = random_split(full, [len(full) - n_val, n_val])
tr_loader = DataLoader(tr_set, batch_size=86, shuffle=True)
va_loader = DataLoader(va_set, batch_size=512)


def conv_bn(cin, cout, k=3):
    # Conv2D(..., use_bias=False) -> BatchNormalization(momentum=0.99, epsilon=1e-3) -> ReLU
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, padding=k // 2, bias=False),
        nn.BatchNorm2d(cout, eps=1e-3, momentum=0.99),  # expect: MG303
        nn.ReLU(inplace=True),
    )


class KerasLikeCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            conv_bn(1, 32), conv_bn(32, 32), nn.MaxPool2d(2), nn.Dropout(0.25),
            conv_bn(32, 64), conv_bn(64, 64), nn.MaxPool2d(2), nn.Dropout(0.25),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(64 * 7 * 7, 256),
            nn.BatchNorm1d(256, momentum=0.99),  # expect: MG303
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(256, 10),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


clf = KerasLikeCNN().to(dev)
optim = torch.optim.RMSprop(clf.parameters(), lr=1e-3, alpha=0.9, eps=1e-8)
sched = torch.optim.lr_scheduler.ReduceLROnPlateau(optim, mode="max", patience=3, factor=0.5, min_lr=1e-5)
lossf = nn.CrossEntropyLoss()

for epoch in range(30):
    clf.train()
    for xb, yb in tr_loader:
        xb, yb = xb.to(dev), yb.to(dev)
        optim.zero_grad()
        lossf(clf(xb), yb).backward()
        optim.step()

    clf.eval()
    hits = 0
    with torch.no_grad():
        for xb, yb in va_loader:
            hits += (clf(xb.to(dev)).argmax(1).cpu() == yb).sum().item()
    val_acc = hits / n_val
    sched.step(val_acc)
    print(f"Epoch {epoch + 1}/30 - val_accuracy: {val_acc:.4f}")

clf.eval()
with torch.no_grad():
    preds = torch.cat([clf(xb.to(dev)).argmax(1).cpu() for xb in X_test.split(1000)])
pd.DataFrame({"ImageId": np.arange(1, len(preds) + 1), "Label": preds.numpy()}).to_csv(
    "submission.csv", index=False)
