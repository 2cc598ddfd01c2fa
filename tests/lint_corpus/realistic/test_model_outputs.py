"""A pytest module: unit tests run toy modules in whichever mode they test (here the training
mode of dropout on purpose, and eval without no_grad because gradients are checked)."""
import torch
import torch.nn as nn


def test_dropout_is_active_in_training_mode():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    model.train()
    with torch.no_grad():
        out = model(torch.ones(64, 4))
    assert (out == 0).any()


def test_eval_output_has_gradients():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    model.eval()
    out = model(torch.ones(2, 4))
    out.sum().backward()
