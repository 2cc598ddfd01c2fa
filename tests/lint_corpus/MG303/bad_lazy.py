from torch.nn import LazyBatchNorm2d, SyncBatchNorm

a = LazyBatchNorm2d(momentum=0.997)  # expect: MG303
b = SyncBatchNorm(32, momentum=0.5)  # expect: MG303
