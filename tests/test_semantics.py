"""Every claim of docs/semantics.md, demonstrated with torch itself.

Each test name is cited next to the claim it backs in the docs.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

torch.manual_seed(0)


# ------------------------------------------------------------------ train() / eval()


def test_train_sets_flag_recursively_and_returns_self() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(), nn.BatchNorm1d(2)))
    assert model.eval() is model
    assert all(not m.training for m in model.modules())
    assert model.train() is model
    assert all(m.training for m in model.modules())


def test_eval_is_train_false_and_calls_overrides() -> None:
    calls = []

    class Custom(nn.Module):
        def train(self, mode: bool = True):  # type: ignore[override]
            calls.append(mode)
            return super().train(mode)

    model = nn.Sequential(Custom())
    model.eval()
    model.train()
    assert calls == [False, True]


def test_train_changes_no_weights_and_no_grad_mode() -> None:
    model = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3), nn.Dropout())
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.eval()
    assert torch.is_grad_enabled()
    assert all(p.requires_grad for p in model.parameters())
    model.train()
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())


def test_train_then_eval_is_not_a_restore() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    model[1].eval()  # deliberately frozen child
    model.eval()
    model.train()
    assert model[1].training  # the child's deliberate mode is lost


# ------------------------------------------------------------------ no_grad


def test_eval_does_not_disable_autograd() -> None:
    model = nn.Linear(3, 1).eval()
    out = model(torch.randn(2, 3))
    assert out.requires_grad and out.grad_fn is not None


def test_no_grad_and_inference_mode_do_not_change_mode() -> None:
    model = nn.Sequential(nn.Dropout(0.5))
    with torch.no_grad():
        assert model.training
        y = model(torch.ones(1000))
    assert (y == 0).any()  # dropout still active under no_grad
    with torch.inference_mode():
        assert model.training


# ------------------------------------------------------------------ dropout


def test_dropout_p_is_drop_probability_and_scales_survivors() -> None:
    drop = nn.Dropout(p=0.8)
    y = drop(torch.ones(100_000))
    zero_fraction = (y == 0).float().mean().item()
    assert abs(zero_fraction - 0.8) < 0.01
    assert torch.allclose(y[y != 0], torch.tensor(5.0))  # 1 / (1 - 0.8)


def test_dropout_eval_is_identity() -> None:
    drop = nn.Dropout(p=0.5).eval()
    x = torch.randn(1000)
    assert torch.equal(drop(x), x)


def test_functional_dropout_defaults_to_training_true() -> None:
    class Net(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return F.dropout(x, 0.5)  # no training=self.training

    net = Net().eval()
    y = net(torch.ones(1000))
    assert (y == 0).any()  # still drops in eval mode

    class Fixed(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return F.dropout(x, 0.5, training=self.training)

    x = torch.ones(1000)
    assert torch.equal(Fixed().eval()(x), x)


def test_sdpa_dropout_ignores_module_mode() -> None:
    class Attn(nn.Module):
        def forward(self, q: torch.Tensor) -> torch.Tensor:
            return F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)

    attn = Attn().eval()
    q = torch.randn(1, 2, 16, 8)
    assert not torch.equal(attn(q), attn(q))  # random in eval mode
    ref = F.scaled_dot_product_attention(q, q, q, dropout_p=0.0)
    assert torch.allclose(F.scaled_dot_product_attention(q, q, q, dropout_p=0.0), ref)


def test_rnn_inter_layer_dropout_follows_mode() -> None:
    lstm = nn.LSTM(4, 4, num_layers=2, dropout=0.5)
    x = torch.randn(5, 1, 4)
    assert not torch.equal(lstm(x)[0], lstm(x)[0])
    lstm.eval()
    assert torch.equal(lstm(x)[0], lstm(x)[0])


# ------------------------------------------------------------------ BatchNorm: four cases


def batch() -> torch.Tensor:
    return torch.randn(16, 3, 4, 4) * 2 + torch.tensor([1.0, -2.0, 5.0]).view(1, 3, 1, 1)


def manual(x: torch.Tensor, mean: torch.Tensor, var: torch.Tensor, eps: float = 1e-5):  # type: ignore[no-untyped-def]
    return (x - mean.view(1, -1, 1, 1)) / torch.sqrt(var.view(1, -1, 1, 1) + eps)


def test_bn_train_track_uses_batch_stats_biased_and_updates_running_unbiased() -> None:
    bn = nn.BatchNorm2d(3, affine=False)
    bn.running_mean.fill_(10.0)
    x = batch()
    y = bn(x)
    mean = x.mean((0, 2, 3))
    var_biased = x.var((0, 2, 3), unbiased=False)
    var_unbiased = x.var((0, 2, 3), unbiased=True)
    torch.testing.assert_close(y, manual(x, mean, var_biased), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(bn.running_mean, 0.9 * 10.0 + 0.1 * mean)
    torch.testing.assert_close(bn.running_var, 0.9 * 1.0 + 0.1 * var_unbiased)
    assert int(bn.num_batches_tracked) == 1


def test_bn_train_without_tracking_uses_batch_stats_updates_nothing() -> None:
    bn = nn.BatchNorm2d(3, affine=False, track_running_stats=False)
    x = batch()
    torch.testing.assert_close(bn(x), manual(x, x.mean((0, 2, 3)), x.var((0, 2, 3), unbiased=False)),
                               atol=1e-5, rtol=1e-5)
    assert bn.running_mean is None and bn.running_var is None


def test_bn_eval_track_uses_running_stats_updates_nothing() -> None:
    bn = nn.BatchNorm2d(3, affine=False)
    bn.running_mean.copy_(torch.tensor([0.5, 1.0, -1.0]))
    bn.running_var.copy_(torch.tensor([2.0, 3.0, 4.0]))
    bn.eval()
    x = batch()
    torch.testing.assert_close(bn(x), manual(x, bn.running_mean, bn.running_var))
    assert torch.equal(bn.running_mean, torch.tensor([0.5, 1.0, -1.0]))
    assert int(bn.num_batches_tracked) == 0


def test_bn_eval_without_tracking_uses_batch_stats() -> None:
    bn = nn.BatchNorm2d(3, affine=False, track_running_stats=False).eval()
    x = batch()
    torch.testing.assert_close(bn(x), manual(x, x.mean((0, 2, 3)), x.var((0, 2, 3), unbiased=False)),
                               atol=1e-5, rtol=1e-5)
    # so the output for one sample depends on the rest of the batch
    assert not torch.allclose(bn(x[:2])[0], bn(x)[0])


def test_bn_momentum_none_is_cumulative_average() -> None:
    bn = nn.BatchNorm1d(2, momentum=None)
    batches = [torch.randn(8, 2) + i for i in range(4)]
    for b in batches:
        bn(b)
    torch.testing.assert_close(bn.running_mean, torch.stack([b.mean(0) for b in batches]).mean(0))


def test_bn_momentum_is_weight_of_new_batch() -> None:
    bn = nn.BatchNorm1d(1, momentum=0.1)
    for k in range(1, 31):
        bn(torch.full((4, 1), 3.0) + torch.tensor([[-1.0], [1.0], [-1.0], [1.0]]))
        # running = (1 - 0.1) * running + 0.1 * batch, from 0: 3 * (1 - 0.9**k)
        assert abs(bn.running_mean.item() - 3.0 * (1 - 0.9 ** k)) < 1e-5
    # the last 10 batches carry 1 - 0.9**10 = 65% of the weight, the last 20: 88%
    keras_style = nn.BatchNorm1d(1, momentum=0.9)
    keras_style(torch.full((4, 1), 3.0))
    keras_style(torch.full((4, 1), -3.0))
    # momentum 0.9 weights the newest batch 90%: follows the last batch
    assert abs(keras_style.running_mean.item() - (-3.0 * 0.9 + 2.7 * 0.1)) < 1e-6


def test_bn_stats_change_in_forward_not_in_optimizer_step() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    before = model[1].running_mean.clone()
    loss = model(torch.randn(8, 2) + 5).sum()
    after_forward = model[1].running_mean.clone()
    assert not torch.equal(before, after_forward)
    loss.backward()
    opt.step()
    assert torch.equal(model[1].running_mean, after_forward)
    assert "running_mean" not in dict(model[1].named_parameters())


def test_requires_grad_false_does_not_freeze_bn_stats() -> None:
    bn = nn.BatchNorm1d(2)
    for p in bn.parameters():
        p.requires_grad = False
    before = bn.running_mean.clone()
    bn(torch.randn(8, 2) + 3)
    assert not torch.equal(bn.running_mean, before)


def test_bn_eval_freeze_undone_by_parent_train() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    model.apply(lambda m: m.eval() if isinstance(m, nn.BatchNorm1d) else None)
    assert not model[1].training
    model.train()
    assert model[1].training


def test_bn_single_value_per_channel_raises_in_training() -> None:
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        bn(torch.randn(1, 3))
    bn.eval()
    assert bn(torch.randn(1, 3)).shape == (1, 3)  # fine in eval mode


def test_bn_tiny_batches_give_noisy_statistics() -> None:
    torch.manual_seed(1)
    data = torch.randn(4096, 1) * 2 + 1  # population mean 1, var 4
    spread = {}
    for bs in (2, 64):
        means = torch.stack([data[i:i + bs].mean() for i in range(0, 4096, bs)])
        spread[bs] = means.std().item()
    assert spread[2] > 4 * spread[64]


def test_instance_norm_with_running_stats_is_mode_sensitive() -> None:
    inorm = nn.InstanceNorm2d(3, track_running_stats=True)
    x = batch()
    y_train = inorm(x)
    inorm.eval()
    assert not torch.allclose(inorm(x), y_train)
    plain = nn.InstanceNorm2d(3)
    torch.testing.assert_close(plain(x), plain.eval()(x))


def test_layernorm_and_groupnorm_are_not_mode_sensitive() -> None:
    x = batch()
    for layer in (nn.LayerNorm([3, 4, 4]), nn.GroupNorm(3, 3)):
        y = layer.train()(x)
        assert torch.equal(y, layer.eval()(x))


def test_mha_eval_no_grad_fast_path_same_result() -> None:
    mha = nn.MultiheadAttention(8, 2, batch_first=True).eval()
    x = torch.randn(2, 5, 8)
    with_grad = mha(x, x, x, need_weights=False)[0]
    with torch.inference_mode():
        fast = mha(x, x, x, need_weights=False)[0]
    torch.testing.assert_close(with_grad, fast, atol=1e-5, rtol=1e-5)
