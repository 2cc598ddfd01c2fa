# Cats vs dogs with a pretrained ResNet-18 used as a fixed feature extractor.
# Only the last layer is trained, so it is fast even on the free Kaggle GPU.
import os
import time
import copy

import torch
import torch.nn as nn
import torch.optim as optim
from torch.optim import lr_scheduler
from torchvision import datasets, models, transforms

data_dir = '../input/cats-and-dogs-small'
device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')

mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
tfms = {
    'train': transforms.Compose([
        transforms.RandomResizedCrop(224),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(mean, std),
    ]),
    'valid': transforms.Compose([
        transforms.Resize(256),
        transforms.CenterCrop(224),
        transforms.ToTensor(),
        transforms.Normalize(mean, std),
    ]),
}
image_sets = {s: datasets.ImageFolder(os.path.join(data_dir, s), tfms[s]) for s in ['train', 'valid']}
loaders = {s: torch.utils.data.DataLoader(image_sets[s], batch_size=32, shuffle=(s == 'train'), num_workers=2)
           for s in ['train', 'valid']}
class_names = image_sets['train'].classes

# ---- model: freeze everything, new head ----
resnet = models.resnet18(weights=models.ResNet18_Weights.IMAGENET1K_V1)
for param in resnet.parameters():
    param.requires_grad = False  # expect: MG302

n_feats = resnet.fc.in_features
resnet.fc = nn.Linear(n_feats, len(class_names))  # new layer is trainable by default
resnet = resnet.to(device)

criterion = nn.CrossEntropyLoss()
optimizer_conv = optim.SGD(resnet.fc.parameters(), lr=0.001, momentum=0.9)
exp_lr_scheduler = lr_scheduler.StepLR(optimizer_conv, step_size=7, gamma=0.1)


def fit(net, loss_fn, opt, sched, num_epochs=15):
    t0 = time.time()
    best_wts = copy.deepcopy(net.state_dict())
    best_acc = 0.0
    for epoch in range(num_epochs):
        print(f'Epoch {epoch}/{num_epochs - 1}')

        net.train()
        seen, hits, loss_sum = 0, 0, 0.0
        for inputs, labels in loaders['train']:
            inputs, labels = inputs.to(device), labels.to(device)
            opt.zero_grad()
            outputs = net(inputs)
            loss = loss_fn(outputs, labels)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * inputs.size(0)
            hits += (outputs.argmax(1) == labels).sum().item()
            seen += inputs.size(0)
        sched.step()
        print(f'  train loss {loss_sum / seen:.4f} acc {hits / seen:.4f}')

        net.eval()
        seen, hits = 0, 0
        with torch.no_grad():
            for inputs, labels in loaders['valid']:
                inputs, labels = inputs.to(device), labels.to(device)
                preds = net(inputs).argmax(1)
                hits += (preds == labels).sum().item()
                seen += inputs.size(0)
        acc = hits / seen
        print(f'  valid acc {acc:.4f}')
        if acc > best_acc:
            best_acc = acc
            best_wts = copy.deepcopy(net.state_dict())

    elapsed = time.time() - t0
    print(f'Training complete in {elapsed // 60:.0f}m {elapsed % 60:.0f}s, best val acc {best_acc:.4f}')
    net.load_state_dict(best_wts)
    return net


resnet = fit(resnet, criterion, optimizer_conv, exp_lr_scheduler, num_epochs=15)
torch.save(resnet.state_dict(), 'resnet18_catsdogs.pth')
