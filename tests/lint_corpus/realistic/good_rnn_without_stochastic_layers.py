"""An oscillator RNN on the adding task: eval() in the test section and no train() after it,
but the network has no dropout and no normalization, so the mode changes nothing."""
import torch
import torch.nn as nn


class coRNNCell(nn.Module):
    def __init__(self, n_inp, n_hid, dt, gamma, epsilon):
        super().__init__()
        self.dt, self.gamma, self.epsilon = dt, gamma, epsilon
        self.i2h = nn.Linear(n_inp + n_hid + n_hid, n_hid)

    def forward(self, x, hy, hz):
        hz = hz + self.dt * (torch.tanh(self.i2h(torch.cat((x, hz, hy), 1)))
                             - self.gamma * hy - self.epsilon * hz)
        return hy + self.dt * hz, hz


class coRNN(nn.Module):
    def __init__(self, n_inp, n_hid, n_out, dt, gamma, epsilon):
        super().__init__()
        self.n_hid = n_hid
        self.cell = coRNNCell(n_inp, n_hid, dt, gamma, epsilon)
        self.readout = nn.Linear(n_hid, n_out)

    def forward(self, x):
        hy = x.new_zeros(x.size(1), self.n_hid)
        hz = x.new_zeros(x.size(1), self.n_hid)
        for t in range(x.size(0)):
            hy, hz = self.cell(x[t], hy, hz)
        return self.readout(hy)


def test(model, data, target):
    model.eval()
    with torch.no_grad():
        out = model(data)
        return nn.MSELoss()(out, target).item()


model = coRNN(2, 128, 1, 0.042, 2.7, 4.7)
optimizer = torch.optim.Adam(model.parameters(), lr=2e-2)
for i in range(600):
    data, label = torch.randn(100, 50, 2), torch.randn(50, 1)
    optimizer.zero_grad()
    loss = nn.MSELoss()(model(data), label)
    loss.backward()
    optimizer.step()
    if i % 100 == 0:
        print(test(model, data, label))
