"""freeze_bn under DistributedDataParallel: 2 processes, gloo backend, CPU."""

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, out_dir: str) -> None:
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        torch.manual_seed(0)  # identical initial weights on both ranks
        model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                              nn.Flatten(), nn.Dropout(0.2), nn.Linear(4 * 4 * 4, 2))
        with torch.no_grad():
            model[1].running_mean.uniform_(-1, 1)
            model[1].running_var.uniform_(0.5, 2)
        mg.freeze_bn(model)
        stats_before = {k: v.clone() for k, v in model[1].named_buffers()}
        ddp = DDP(model)
        opt = torch.optim.SGD([p for p in ddp.parameters() if p.requires_grad], lr=0.1)
        torch.manual_seed(100 + rank)  # different data per rank
        for _ in range(4):
            ddp.train()
            assert not model[1].training and ddp.training and model[4].training
            opt.zero_grad()
            ddp(torch.randn(8, 3, 6, 6) * 3 + rank).pow(2).mean().backward()
            opt.step()
        for k, v in model[1].named_buffers():
            assert torch.equal(v, stats_before[k]), k
        assert not model[1].weight.requires_grad
        # parameters stay in sync across ranks: DDP still works with frozen affine params
        w = model[0].weight.detach().clone()
        gathered = [torch.empty_like(w) for _ in range(world)]
        dist.all_gather(gathered, w)
        assert torch.equal(gathered[0], gathered[1])
        assert mg.pinned(ddp) == {"module.1": "eval"}
        torch.save({"ok": True}, os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


def test_freeze_bn_under_ddp_two_processes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    mp.spawn(_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    for rank in range(2):
        assert torch.load(tmp_path / f"rank{rank}.pt")["ok"] is True
