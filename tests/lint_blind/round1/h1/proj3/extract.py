import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from datasets import ImagesFromList


def extract_vectors(net, images, image_size, transform, device, ms=(1,)):
    """Global descriptors for a list of image paths (one column per image)."""
    loader = DataLoader(ImagesFromList(root="", images=images, imsize=image_size, transform=transform),
                        batch_size=1, shuffle=False, num_workers=8, pin_memory=True)
    vecs = torch.zeros(net.meta["outputdim"], len(images))
    with torch.no_grad():
        for i, img in enumerate(loader):
            img = img.to(device)
            if len(ms) == 1 and ms[0] == 1:
                v = net(img).squeeze()
            else:
                v = torch.zeros(net.meta["outputdim"], device=device)
                for s in ms:
                    scaled = img if s == 1 else F.interpolate(img, scale_factor=s, mode="bilinear", align_corners=False)
                    v += net(scaled).pow(3).squeeze()
                v = F.normalize(v.div(len(ms)).pow(1.0 / 3), dim=0)
            vecs[:, i] = v.cpu()
    return vecs
