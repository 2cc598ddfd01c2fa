"""recalibrate_bn under torch.distributed: 2 processes, gloo, CPU; plain, DDP and SyncBatchNorm."""

from __future__ import annotations

import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

import modeguard as mg

pytestmark = [pytest.mark.slow, pytest.mark.distributed]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _model(sync: bool) -> nn.Module:
    torch.manual_seed(0)
    bn = nn.SyncBatchNorm if sync else nn.BatchNorm2d
    return nn.Sequential(nn.Conv2d(3, 4, 3), bn(4), nn.ReLU(), nn.Conv2d(4, 4, 3), bn(4),
                         nn.Flatten(), nn.Linear(4 * 2 * 2, 2))


def _batches(rank: int) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(rank)
    n = 3 + 2 * rank  # ranks see different numbers of batches, ragged last one
    return [torch.randn(6 if i < n - 1 else 3, 3, 6, 6, generator=g) + 2.0 * rank + i
            for i in range(n)]


def _truth(sync: bool) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """float64 population statistics over both ranks' data, each batch normalized on its own."""
    model = _model(False)  # same weights; per-batch statistics as each rank computes them
    inputs: dict[int, list[torch.Tensor]] = {1: [], 4: []}
    for i in inputs:
        model[i].register_forward_pre_hook(
            lambda m, a, i=i: inputs[i].append(a[0].double().transpose(0, 1).reshape(4, -1)))
    with torch.no_grad():
        for b in _batches(0) + _batches(1):
            model(b)
    return {str(i): (torch.cat(x, 1).mean(1), torch.cat(x, 1).var(1)) for i, x in inputs.items()}


def _worker(rank: int, port: int, mode: str, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    try:
        model = _model(mode == "sync")
        if mode == "ddp":
            model = DDP(model)
        if mode == "fail":
            def data():  # noqa: ANN202
                yield from _batches(rank)[:2]
                if rank == 1:
                    raise RuntimeError("loader broke on rank 1")
            before = {k: v.clone() for k, v in model.state_dict().items()}
            with pytest.raises((RuntimeError,)):
                mg.recalibrate_bn(model, data(), progress=False)
            assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())
            torch.save({"failed_cleanly": True}, os.path.join(out, f"rank{rank}.pt"))
            return
        report = mg.recalibrate_bn(model, _batches(rank), progress=False)
        inner = model.module if isinstance(model, DDP) else model
        stats = {str(i): (inner[i].running_mean.clone(), inner[i].running_var.clone(),
                          int(inner[i].num_batches_tracked)) for i in (1, 4)}
        torch.save({"stats": stats, "world": report.world_size}, os.path.join(out, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize("mode", ["plain", "ddp", "sync"])
def test_every_rank_gets_identical_exact_statistics(mode: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    mp.spawn(_worker, args=(_port(), mode, str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    assert r0["world"] == r1["world"] == 2
    truth = _truth(mode == "sync")
    for name, (mean, var) in truth.items():
        m0, v0, n0 = r0["stats"][name]
        m1, v1, n1 = r1["stats"][name]
        assert torch.equal(m0, m1) and torch.equal(v0, v1)  # identical on every rank
        assert n0 == n1 == 3 + 5  # batches over both ranks
        torch.testing.assert_close(m0.double(), mean, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(v0.double(), var, rtol=1e-5, atol=1e-6)


def test_a_failing_rank_does_not_hang_the_others(tmp_path) -> None:  # type: ignore[no-untyped-def]
    mp.spawn(_worker, args=(_port(), "fail", str(tmp_path)), nprocs=2, join=True)
    for r in (0, 1):
        assert torch.load(tmp_path / f"rank{r}.pt")["failed_cleanly"]
