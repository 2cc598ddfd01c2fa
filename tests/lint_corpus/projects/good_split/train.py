from evaluation import evaluate, evaluate_restoring


def fit(net, optimizer, loader, epochs):
    for epoch in range(epochs):
        net.train()
        for step, x in enumerate(loader):
            loss = net(x).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step % 100 == 0:
                evaluate_restoring(net, loader)
        evaluate(net, loader)
    return evaluate(net, loader)
