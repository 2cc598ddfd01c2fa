import modeguard as mg


def train(model, loader, optimizer, epochs):
    mg.freeze_bn(model)
    for epoch in range(epochs):
        model.train()
        for x in loader:
            loss = model(x).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
