import torch

layer = torch.nn.BatchNorm1d(128, 1e-3, 0.99)  # expect: MG303
