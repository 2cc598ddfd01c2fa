import torch
from common import make_model

model = make_model()


def broken():
    raise RuntimeError("the script's own bug")


broken()
