# Birds-200 subset: freeze the VGG16 conv layers, retrain the classifier head,
# then dump penultimate-layer embeddings for a t-SNE plot.
import numpy as np
import torch
import torch.nn as nn
from torchvision import datasets, models, transforms
from sklearn.manifold import TSNE
import matplotlib.pyplot as plt

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
N_CLASSES = 20

tf_train = transforms.Compose([
    transforms.RandomResizedCrop(224),
    transforms.RandomHorizontalFlip(),
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])
tf_eval = transforms.Compose([
    transforms.Resize((224, 224)),
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])
trn = datasets.ImageFolder("birds20/train", tf_train)
val = datasets.ImageFolder("birds20/val", tf_eval)
trn_dl = torch.utils.data.DataLoader(trn, batch_size=32, shuffle=True, num_workers=4)
val_dl = torch.utils.data.DataLoader(val, batch_size=64, num_workers=4)

vgg = models.vgg16(weights=models.VGG16_Weights.IMAGENET1K_V1)
# plain VGG16 (no batch norm): the conv part is just conv + relu + maxpool
for p in vgg.features.parameters():
    p.requires_grad = False
vgg.classifier[6] = nn.Linear(4096, N_CLASSES)
vgg = vgg.to(DEVICE)

head_params = [p for p in vgg.parameters() if p.requires_grad]
opt = torch.optim.Adam(head_params, lr=1e-4)
ce = nn.CrossEntropyLoss()


def evaluate(net, dl):
    net.eval()
    ok = n = 0
    with torch.no_grad():
        for x, y in dl:
            ok += (net(x.to(DEVICE)).argmax(1).cpu() == y).sum().item()
            n += len(y)
    return ok / n


for epoch in range(12):
    vgg.train()       # dropout in the classifier is on while training the head
    for x, y in trn_dl:
        x, y = x.to(DEVICE), y.to(DEVICE)
        opt.zero_grad()
        loss = ce(vgg(x), y)
        loss.backward()
        opt.step()
    print(f"epoch {epoch}: val acc {evaluate(vgg, val_dl):.3f}")


# penultimate features: everything except the last Linear
embedder = nn.Sequential(vgg.features, vgg.avgpool, nn.Flatten(), *list(vgg.classifier.children())[:-1])
embedder.eval()
feats, labs = [], []
with torch.inference_mode():
    for x, y in val_dl:
        feats.append(embedder(x.to(DEVICE)).cpu().numpy())
        labs.append(y.numpy())
feats = np.concatenate(feats)
labs = np.concatenate(labs)

xy = TSNE(n_components=2, perplexity=30, init="pca").fit_transform(feats)
plt.figure(figsize=(8, 8))
plt.scatter(xy[:, 0], xy[:, 1], c=labs, cmap="tab20", s=8)
plt.title("VGG16 penultimate features (val set)")
plt.savefig("tsne_vgg16.png", dpi=150)
