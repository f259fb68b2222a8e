"""Process-group helpers that are no-ops on one process (callbacks and `eval.py` share them)."""

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
    if distributed():
        tensor = tensor.clone()
        dist.all_reduce(tensor)
    return tensor


def share_of(total: int) -> int:
    """This rank's part of `total` samples; the parts add up to exactly `total`."""
    rank, world = rank_and_world_size()
    return total // world + (1 if rank < total % world else 0)
