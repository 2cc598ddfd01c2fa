"""Graph attention network: each training iteration switches to train mode itself, steps, and
then scores the training and validation masks in eval mode."""
import torch
import torch.nn as nn


class GAT(nn.Module):
    def __init__(self, in_features, n_hidden, num_classes, dropout=0.4):
        super().__init__()
        self.lin1 = nn.Linear(in_features, n_hidden)
        self.drop = nn.Dropout(dropout)
        self.lin2 = nn.Linear(n_hidden, num_classes)

    def forward(self, x, adj):
        return self.lin2(self.drop(adj @ self.lin1(x)).relu()).log_softmax(-1)


def test(model, criterion, inputs, target, mask):
    model.eval()
    with torch.no_grad():
        output = model(*inputs)[mask]
        return criterion(output, target[mask]).item()


def train_iter(epoch, model, optimizer, criterion, inputs, target, mask_train, mask_val):
    model.train()
    optimizer.zero_grad()
    loss = criterion(model(*inputs)[mask_train], target[mask_train])
    loss.backward()
    optimizer.step()
    return test(model, criterion, inputs, target, mask_train), test(model, criterion, inputs, target, mask_val)


if __name__ == "__main__":
    x, adj = torch.randn(100, 16), torch.eye(100)
    y = torch.randint(0, 3, (100,))
    gat_net = GAT(16, 32, 3)
    optimizer = torch.optim.Adam(gat_net.parameters(), lr=5e-3)
    criterion = nn.NLLLoss()
    mask_train, mask_val = torch.arange(60), torch.arange(60, 100)
    for epoch in range(200):
        train_iter(epoch, gat_net, optimizer, criterion, (x, adj), y, mask_train, mask_val)
    print(test(gat_net, criterion, (x, adj), y, mask_val))
