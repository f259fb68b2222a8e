"""Process-group helpers that are no-ops in one process (training, callbacks and `eval.py`).

Every reduction across ranks is a `torch.distributed` collective of the process group that
Lightning opened: gloo between CPU processes, NCCL between GPUs.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.distributed as dist


def distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def rank_and_world_size() -> tuple[int, int]:
    return (dist.get_rank(), dist.get_world_size()) if distributed() else (0, 1)


def barrier() -> None:
    if distributed():
        dist.barrier()


def sum_across_ranks(tensor: torch.Tensor) -> torch.Tensor:
    """`tensor` summed over all ranks (a copy; unchanged in one process)."""
    if distributed():
        tensor = tensor.clone()
        dist.all_reduce(tensor)
    return tensor


def mean_across_ranks(tensor: torch.Tensor) -> torch.Tensor:
    """`tensor` averaged over all ranks (a copy; unchanged in one process)."""
    return sum_across_ranks(tensor) / rank_and_world_size()[1]


def agree(flags: Sequence[bool], device: torch.device) -> list[bool]:
    """Each of `flags` as true on every rank where it is true on any (one small all-reduce, of
    a tensor on `device`: the process group's device)."""
    if not distributed():
        return list(flags)
    values = torch.tensor([float(flag) for flag in flags], device=device)
    dist.all_reduce(values, op=dist.ReduceOp.MAX)
    return [value > 0 for value in values.tolist()]


def spread_across_ranks(values: torch.Tensor) -> torch.Tensor:
    """The largest minus the smallest of each of `values` over the ranks (one all-reduce, in
    float32); zeros in one process."""
    if not distributed():
        return torch.zeros_like(values)
    extremes = torch.cat([values, -values]).float()
    dist.all_reduce(extremes, op=dist.ReduceOp.MAX)
    largest, negated_smallest = extremes.chunk(2)
    return largest + negated_smallest


def share_of(total: int) -> int:
    """This rank's part of `total` samples; the parts add up to exactly `total`."""
    rank, world = rank_and_world_size()
    return total // world + (1 if rank < total % world else 0)
