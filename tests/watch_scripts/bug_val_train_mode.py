import torch
from common import batches, make_model

model = make_model()
model.eval()
model.load_state_dict(make_model().state_dict())
model.train()  # <train>  (meant model.eval())
with torch.no_grad():
    for x, _ in batches(3):
        out = model(x)  # <forward>
print("evaluated", out.shape[0])
