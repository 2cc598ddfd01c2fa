import torch


def fit(model, optimizer, batches):
    for i, batch in enumerate(batches):
        model.train()
        loss = model(batch).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if i % 10 == 0:
            model.eval()
            with torch.no_grad():
                model(batch)
