import torch
from common import batches, make_model

model = make_model()
model.eval()  # <evalgrad>
total = 0.0
for x, _ in batches(3):
    total += model(x).sum().item()
print("score", round(total, 3))
