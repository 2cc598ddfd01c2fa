"""CS-x Assignment 2, part 3: a two layer fully connected network in PyTorch.

Student implementation.  The autograder imports TwoLayerNet and calls
    net = TwoLayerNet(3072, 100, 10)
    stats = net.train(X_train, y_train, X_val, y_val)
    y_pred = net.predict(X_test)
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class TwoLayerNet(nn.Module):
    def __init__(self, input_size, hidden_size, output_size, dropout=0.5, std=1e-4):
        super().__init__()
        self.fc1 = nn.Linear(input_size, hidden_size)
        self.fc2 = nn.Linear(hidden_size, output_size)
        self.dropout = nn.Dropout(dropout)
        nn.init.normal_(self.fc1.weight, std=std)
        nn.init.normal_(self.fc2.weight, std=std)
        nn.init.zeros_(self.fc1.bias)
        nn.init.zeros_(self.fc2.bias)

    def forward(self, x):
        h = F.relu(self.fc1(x))
        h = self.dropout(h)
        return self.fc2(h)

    def loss(self, X, y, reg=0.0):
        scores = self(X)
        data_loss = F.cross_entropy(scores, y)
        reg_loss = reg * (self.fc1.weight.pow(2).sum() + self.fc2.weight.pow(2).sum())
        return data_loss + reg_loss

    def train(self, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95,  # expect: MG104
              reg=5e-6, num_iters=1000, batch_size=200, verbose=False):
        """Train this network with minibatch SGD. Returns a dict of statistics."""
        X = torch.as_tensor(X, dtype=torch.float32)
        y = torch.as_tensor(y, dtype=torch.long)
        X_val = torch.as_tensor(X_val, dtype=torch.float32)
        y_val = torch.as_tensor(y_val, dtype=torch.long)
        num_train = X.shape[0]
        iterations_per_epoch = max(num_train // batch_size, 1)
        optimizer = torch.optim.SGD(self.parameters(), lr=learning_rate)

        loss_history, train_acc_history, val_acc_history = [], [], []
        for it in range(num_iters):
            idx = torch.randint(0, num_train, (batch_size,))
            X_batch, y_batch = X[idx], y[idx]

            loss = self.loss(X_batch, y_batch, reg=reg)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_history.append(loss.item())

            if verbose and it % 100 == 0:
                print('iteration %d / %d: loss %f' % (it, num_iters, loss.item()))

            if it % iterations_per_epoch == 0:
                train_acc = (self.predict(X_batch) == y_batch).float().mean().item()
                val_acc = (self.predict(X_val) == y_val).float().mean().item()
                train_acc_history.append(train_acc)
                val_acc_history.append(val_acc)
                for g in optimizer.param_groups:
                    g['lr'] *= learning_rate_decay

        return {
            'loss_history': loss_history,
            'train_acc_history': train_acc_history,
            'val_acc_history': val_acc_history,
        }

    def predict(self, X):
        X = torch.as_tensor(X, dtype=torch.float32)
        with torch.no_grad():
            scores = self.forward(X)  # expect: MG102
        return scores.argmax(dim=1)


if __name__ == '__main__':
    rng = np.random.RandomState(0)
    X_tr = rng.randn(500, 3072).astype(np.float32)
    y_tr = rng.randint(0, 10, size=500)
    X_va = rng.randn(100, 3072).astype(np.float32)
    y_va = rng.randint(0, 10, size=100)

    net = TwoLayerNet(3072, 100, 10)
    stats = net.train(X_tr, y_tr, X_va, y_va, num_iters=300, verbose=True)
    print('final val acc', stats['val_acc_history'][-1])
    print('test preds', net.predict(X_va[:10]))
