"""Unit tests for mypkg.models.ConvClassifier."""
import copy

import pytest
import torch
import torch.nn.functional as F

from mypkg.models import ConvClassifier

IMG = (3, 32, 32)


@pytest.fixture
def net():
    torch.manual_seed(0)
    return ConvClassifier(in_ch=3, n_classes=10, width=16, dropout=0.5)


@pytest.fixture
def batch():
    g = torch.Generator().manual_seed(1)
    return torch.randn(8, *IMG, generator=g), torch.randint(0, 10, (8,), generator=g)


def test_output_shape(net, batch):
    x, _ = batch
    net.eval()
    with torch.no_grad():
        out = net(x)
    assert out.shape == (8, 10)
    assert torch.isfinite(out).all()


def test_eval_is_deterministic(net, batch):
    x, _ = batch
    net.eval()
    with torch.no_grad():
        first = net(x)
        second = net(x)
    torch.testing.assert_close(first, second)


def test_dropout_active_in_train_mode(net, batch):
    # train mode on purpose: two passes must differ because of dropout
    x, _ = batch
    net.train()
    with torch.no_grad():
        first = net(x)
        second = net(x)
    assert not torch.allclose(first, second)


def test_eval_leaves_running_stats_alone(net, batch):
    x, _ = batch
    net.eval()
    before = copy.deepcopy(net.state_dict())
    with torch.no_grad():
        net(x)
    for key, value in net.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_every_parameter_gets_a_gradient(net, batch):
    x, y = batch
    net.train()
    F.cross_entropy(net(x), y).backward()
    missing = [n for n, p in net.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing


def test_modes_propagate_to_children(net):
    net.eval()
    assert not any(m.training for m in net.modules())
    assert net.train() is net
    assert all(m.training for m in net.modules())


@pytest.mark.parametrize("bs", [1, 5])
def test_eval_is_batch_independent(net, bs):
    torch.manual_seed(3)
    x = torch.randn(bs + 3, *IMG)
    net.eval()
    with torch.no_grad():
        whole = net(x)
        part = net(x[:bs])
    torch.testing.assert_close(whole[:bs], part, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_can_overfit_one_batch(net, batch):
    x, y = batch
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    net.train()
    for _ in range(300):
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        acc = (net(x).argmax(1) == y).float().mean().item()
    assert acc >= 0.9
