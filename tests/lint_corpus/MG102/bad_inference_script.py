import torch

from mypkg import Classifier

model = Classifier()
model.load_state_dict(torch.load("weights.pt"))
with torch.inference_mode():
    prediction = model(torch.randn(1, 3, 224, 224))  # expect: MG102
print(prediction.argmax())
