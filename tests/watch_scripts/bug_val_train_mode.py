import torch
from common import batches, make_model

model = make_model()
model.train()  # <train>
with torch.no_grad():
    for x, _ in batches(3):
        out = model(x)  # <forward>
print("evaluated", out.shape[0])
