import modeguard as mg


def validate(model, loader):
    with mg.inference(model):
        return [model(x) for x in loader]
