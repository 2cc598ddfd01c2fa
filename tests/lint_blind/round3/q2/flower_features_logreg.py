# %% [markdown]
# # Oxford flowers-102: pretrained ResNet-50 features + logistic regression
# No fine-tuning at all: extract 2048-d features once, then fit sklearn.

# %%
import numpy as np
import torch
import torchvision
from torchvision import transforms
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score

device = "cuda" if torch.cuda.is_available() else "cpu"

# %%
prep = transforms.Compose([
    transforms.Resize(256),
    transforms.CenterCrop(224),
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])
train_set = torchvision.datasets.Flowers102("data", split="train", download=True, transform=prep)
val_set = torchvision.datasets.Flowers102("data", split="val", download=True, transform=prep)
test_set = torchvision.datasets.Flowers102("data", split="test", download=True, transform=prep)

# %%
backbone = torchvision.models.resnet50(weights=torchvision.models.ResNet50_Weights.IMAGENET1K_V2)
backbone.fc = torch.nn.Identity()   # output the pooled 2048-d vector
backbone = backbone.to(device)


def get_features(dataset, bs=64):
    loader = torch.utils.data.DataLoader(dataset, batch_size=bs, shuffle=False, num_workers=4)
    feats, ys = [], []
    with torch.no_grad():
        for imgs, y in loader:
            f = backbone(imgs.to(device))  # expect: MG102
            feats.append(f.cpu().numpy())
            ys.append(y.numpy())
    return np.concatenate(feats), np.concatenate(ys)


# %%
Xtr, ytr = get_features(train_set)
Xva, yva = get_features(val_set)
Xte, yte = get_features(test_set)
print(Xtr.shape, Xva.shape, Xte.shape)
np.savez_compressed("flowers_r50_feats.npz", Xtr=Xtr, ytr=ytr, Xva=Xva, yva=yva, Xte=Xte, yte=yte)

# %%
best_c, best_acc = None, 0.0
for C in [0.01, 0.1, 1.0, 10.0]:
    clf = LogisticRegression(C=C, max_iter=3000)
    clf.fit(Xtr, ytr)
    acc = accuracy_score(yva, clf.predict(Xva))
    print(f"C={C}: val acc {acc:.4f}")
    if acc > best_acc:
        best_c, best_acc = C, acc

# %%
clf = LogisticRegression(C=best_c, max_iter=3000).fit(np.vstack([Xtr, Xva]), np.concatenate([ytr, yva]))
print("test accuracy:", accuracy_score(yte, clf.predict(Xte)))
