import torch


def validate(model, batch):
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return model(batch)
    finally:
        model.train(was_training)


def fit(model, optimizer, batches):
    model.train()
    for i, batch in enumerate(batches):
        loss = model(batch).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if i % 10 == 0:
            validate(model, batch)
