"""Fine-tuning script: the pretrained model is scored first, then trained, still in eval mode."""
import torch
import torch.nn as nn


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(128, 256), nn.GELU(), nn.Dropout(0.1))
        self.head = nn.Linear(256, 4)

    def forward(self, x):
        return self.head(self.encoder(x))


model = Classifier()
model.load_state_dict(torch.load("pretrained.pt"))
model.eval()  # expect: MG101
with torch.no_grad():
    baseline = model(torch.randn(64, 128)).argmax(-1)
print("zero-shot predictions", baseline[:8])

optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)
for step in range(1000):
    x, y = torch.randn(32, 128), torch.randint(0, 4, (32,))
    loss = nn.functional.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
