import modeguard as mg


def freeze_norm(model):
    mg.freeze_bn(model)
