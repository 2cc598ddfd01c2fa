"""Extract frame features for a video-summarization dataset with a pretrained CNN."""
import h5py
import numpy as np
import torch
import torchvision

googlenet = torchvision.models.googlenet(weights="DEFAULT")
googlenet.fc = torch.nn.Identity()

frames = np.zeros((120, 3, 224, 224), dtype=np.float32)
with torch.no_grad():
    features = googlenet(torch.from_numpy(frames))  # expect: MG102

with h5py.File("features.h5", "w") as f:
    f.create_dataset("video_1/features", data=features.numpy())
