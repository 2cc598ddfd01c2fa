import torch


def test(net, data):
    net.eval()  # expect: MG101
    correct = 0
    with torch.no_grad():
        for x, y in data:
            correct += (net(x).argmax(1) == y).sum().item()
    return correct


def run(net, optimizer, data, epochs):
    net.train()
    for epoch in range(epochs):
        for x, y in data:
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(x), y)
            loss.backward()
            optimizer.step()
        test(net, data)
