"""Process-group helpers that are no-ops in one process (training, callbacks and `eval.py`)."""

from __future__ import annotations

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


def share_of(total: int) -> int:
    """This rank's part of `total` samples; the parts add up to exactly `total`."""
    rank, world = rank_and_world_size()
    return total // world + (1 if rank < total % world else 0)
