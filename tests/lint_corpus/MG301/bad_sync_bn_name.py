from torch import nn


def finetune(net, batches, opt):
    for layer in net.modules():
        if type(layer) == nn.SyncBatchNorm:
            layer.eval()  # expect: MG301
    net.train()
    for b in batches:
        net(b).sum().backward()
        opt.step()
