import torch

from model import VSE


def validate(model, loader):
    model.val_start()
    with torch.no_grad():
        for images, captions in loader:
            model.img_enc(images)


def main(loader, val_loader, epochs):
    model = VSE(32)
    optimizer = torch.optim.Adam(list(model.img_enc.parameters()))
    for epoch in range(epochs):
        model.train_start()
        for i, (images, captions) in enumerate(loader):
            model.train_emb(images, captions, optimizer)
            if i % 500 == 0:
                validate(model, val_loader)
