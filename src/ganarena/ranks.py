"""Process-group helpers that are no-ops in one process (training, callbacks and `eval.py`).

Every reduction across ranks goes through `all_reduce_in_place`: through the process group,
or, while `gan_ddp` has one open for CPU ranks on one machine, through shared memory
(`ganarena.shared_memory`), for the float32 CPU tensors it takes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.distributed as dist

#: `(tensor, op)` -> None: `tensor` replaced in place by its "sum" or "max" over all ranks.
AllReduce = Callable[[torch.Tensor, str], None]
OPS = {"sum": dist.ReduceOp.SUM, "max": dist.ReduceOp.MAX}
_shared_memory_all_reduce: AllReduce | None = None


def distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def use_shared_memory_all_reduce(all_reduce: AllReduce | None) -> None:
    """Route float32 CPU reductions through `all_reduce` (None: back to the process group)."""
    global _shared_memory_all_reduce
    _shared_memory_all_reduce = all_reduce


def all_reduce_in_place(tensor: torch.Tensor, op: str = "sum") -> None:
    """`tensor` replaced by its sum or max over all ranks, the fastest way there is."""
    shared = _shared_memory_all_reduce
    if shared is not None and tensor.dtype == torch.float32 and tensor.device.type == "cpu":
        shared(tensor, op)
    else:
        dist.all_reduce(tensor, op=OPS[op])


def rank_and_world_size() -> tuple[int, int]:
    return (dist.get_rank(), dist.get_world_size()) if distributed() else (0, 1)


def barrier() -> None:
    if distributed():
        dist.barrier()


def sum_across_ranks(tensor: torch.Tensor) -> torch.Tensor:
    """`tensor` summed over all ranks (a copy; unchanged in one process)."""
    if distributed():
        tensor = tensor.clone()
        all_reduce_in_place(tensor)
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
    all_reduce_in_place(values, "max")
    return [value > 0 for value in values.tolist()]


def spread_across_ranks(values: torch.Tensor) -> torch.Tensor:
    """The largest minus the smallest of each of `values` over the ranks (one all-reduce, in
    float32); zeros in one process."""
    if not distributed():
        return torch.zeros_like(values)
    extremes = torch.cat([values, -values]).float()
    all_reduce_in_place(extremes, "max")
    largest, negated_smallest = extremes.chunk(2)
    return largest + negated_smallest


def share_of(total: int) -> int:
    """This rank's part of `total` samples; the parts add up to exactly `total`."""
    rank, world = rank_and_world_size()
    return total // world + (1 if rank < total % world else 0)
