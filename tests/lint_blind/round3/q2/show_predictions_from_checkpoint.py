# %% [markdown]
# ## Inference notebook
# Loads the checkpoint written by the training notebook and plots predictions + a few mistakes.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
import torchvision.transforms as T
from torchvision.datasets import ImageFolder

from my_models import build_classifier   # same factory as in the training notebook

CKPT = "checkpoints/epoch_24.pt"
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

# %%
with open("checkpoints/class_names.txt") as fh:
    class_names = eval(fh.read())     # a python list literal written by the training notebook
print(len(class_names), class_names[:5])

# %%
checkpoint = torch.load(CKPT, map_location=device)
print(checkpoint.keys(), "epoch", checkpoint["epoch"], "val acc", checkpoint["val_acc"])
classifier = build_classifier(checkpoint["arch"], num_classes=len(class_names))
classifier.load_state_dict(checkpoint["state_dict"])
classifier.to(device)
classifier.eval()

# %%
tfm = T.Compose([T.Resize(160), T.CenterCrop(144), T.ToTensor(),
                 T.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
test_set = ImageFolder("data/test", transform=tfm)
loader = torch.utils.data.DataLoader(test_set, batch_size=64, shuffle=False)

all_probs, all_y = [], []
with torch.inference_mode():
    for imgs, ys in loader:
        all_probs.append(torch.softmax(classifier(imgs.to(device)), dim=1).cpu())
        all_y.append(ys)
probs = torch.cat(all_probs).numpy()
y_true = torch.cat(all_y).numpy()
y_pred = probs.argmax(1)
print("test accuracy:", (y_pred == y_true).mean())

# %%
def denorm(t):
    return np.clip(t.permute(1, 2, 0).numpy() * 0.5 + 0.5, 0, 1)

idx = np.random.default_rng(0).choice(len(test_set), 12, replace=False)
fig, axes = plt.subplots(3, 4, figsize=(12, 9))
for ax, i in zip(axes.flat, idx):
    img, y = test_set[i]
    ax.imshow(denorm(img))
    ax.set_title(f"pred {class_names[y_pred[i]]} ({probs[i].max():.2f})\ntrue {class_names[y]}",
                 color="green" if y_pred[i] == y else "red", fontsize=9)
    ax.axis("off")
plt.tight_layout()
plt.show()

# %%
# most confident mistakes
wrong = np.where(y_pred != y_true)[0]
worst = wrong[np.argsort(-probs[wrong].max(1))][:8]
fig, axes = plt.subplots(1, len(worst), figsize=(2.5 * len(worst), 3))
for ax, i in zip(np.atleast_1d(axes), worst):
    ax.imshow(denorm(test_set[i][0]))
    ax.set_title(f"{class_names[y_pred[i]]}\nvs {class_names[y_true[i]]}", fontsize=8)
    ax.axis("off")
plt.show()

# %%
# a single image from disk
from PIL import Image
img = tfm(Image.open("my_photo.jpg").convert("RGB")).unsqueeze(0).to(device)
with torch.no_grad():
    p = torch.softmax(classifier(img), dim=1)[0]
top = p.topk(3)
for s, c in zip(top.values.tolist(), top.indices.tolist()):
    print(f"{class_names[c]:>20s}: {s:.3f}")
