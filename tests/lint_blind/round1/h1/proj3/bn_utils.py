"""Small helpers around normalisation layers."""
import torch.nn as nn


def set_batchnorm_eval(m):
    # BN statistics are not updated: a batch holds only a handful of
    # query/positive/negative tuples, far too few for reliable estimates.
    classname = m.__class__.__name__
    if classname.find("BatchNorm") != -1:
        m.eval()  # expect: MG301


def count_norm_layers(net):
    n_bn = sum(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in net.modules())
    n_other = sum(isinstance(m, (nn.GroupNorm, nn.LayerNorm)) for m in net.modules())
    return n_bn, n_other
