"""The shared-memory all-reduce between real processes: exact, the same on every rank, and
loud when a rank is gone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from ganarena.errors import GanArenaError
from ganarena.shared_memory import (
    SharedMemoryAllReduce,
    new_shared_file,
    process_alive,
    shared_memory_supported,
)

pytestmark = pytest.mark.skipif(not shared_memory_supported(), reason="x86-64 only")

WORLD = 3
SLOT = 5  # floats per slot: the 13-float tensor goes through in three chunks


def rank_values(rank: int, size: int) -> torch.Tensor:
    """Values whose float32 sum depends on the order of addition (so the order is tested)."""
    generator = torch.Generator().manual_seed(rank)
    return torch.randn(size, generator=generator) * 10.0 ** (rank - 1)


def _reduce_on_rank(rank: int, path: Path, results: dict) -> None:
    reducer = SharedMemoryAllReduce(path, rank, WORLD, timeout=60, slot_floats=SLOT)
    reducer.publish_pid()
    summed = rank_values(rank, 13)
    reducer.all_reduce(summed, "sum")
    largest = rank_values(rank, 2).view(2, 1)  # not flat: reduced in its own shape
    reducer.all_reduce(largest, "max")
    results[rank] = (summed, largest)
    reducer.close()


def test_all_reduce_sums_in_rank_order_and_maxes_the_same_on_every_rank() -> None:
    path = new_shared_file(WORLD, SLOT)
    try:
        results = mp.Manager().dict()
        mp.spawn(_reduce_on_rank, args=(path, results), nprocs=WORLD, join=True)
    finally:
        path.unlink()
    expected_sum = rank_values(0, 13) + rank_values(1, 13) + rank_values(2, 13)
    expected_max = torch.stack([rank_values(r, 2) for r in range(WORLD)]).amax(0).view(2, 1)
    for rank in range(WORLD):
        summed, largest = results[rank]
        assert torch.equal(summed, expected_sum)  # bit for bit: rank order, on every rank
        assert torch.equal(largest, expected_max)


def _wait_for_a_rank_that_ends(rank: int, path: Path, errors: dict) -> None:
    reducer = SharedMemoryAllReduce(path, rank, 2, timeout=60, slot_floats=SLOT)
    reducer.publish_pid()
    if rank == 1:
        return  # ends without taking part
    try:
        reducer.all_reduce(torch.ones(3))
    except GanArenaError as error:
        errors[rank] = str(error)


def test_a_rank_whose_process_ended_stops_the_others_with_its_name() -> None:
    path = new_shared_file(2, SLOT)
    try:
        errors = mp.Manager().dict()
        mp.spawn(_wait_for_a_rank_that_ends, args=(path, errors), nprocs=2, join=True)
    finally:
        path.unlink()
    assert "rank 1 (process" in errors[0] and "has stopped" in errors[0]


def test_a_rank_that_never_comes_times_out_with_a_one_line_error() -> None:
    path = new_shared_file(2, SLOT)
    try:
        reducer = SharedMemoryAllReduce(path, 0, 2, timeout=0.2, slot_floats=SLOT)
        with pytest.raises(GanArenaError, match=r"ranks \[1\] did not reach all-reduce 1"):
            reducer.all_reduce(torch.ones(3))
        reducer.close()
    finally:
        path.unlink()


def test_other_tensors_are_refused_by_name() -> None:
    path = new_shared_file(1, SLOT)
    try:
        reducer = SharedMemoryAllReduce(path, 0, 1, slot_floats=SLOT)
        with pytest.raises(GanArenaError, match=r"float32 CPU tensors, not torch\.float64"):
            reducer.all_reduce(torch.ones(3, dtype=torch.float64))
        reducer.close()
    finally:
        path.unlink()


def test_an_ended_child_that_is_not_reaped_counts_as_stopped() -> None:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    try:
        import time

        deadline = time.monotonic() + 10
        while process_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.01)  # a zombie: kill(pid, 0) would still succeed
        assert not process_alive(pid)
        assert process_alive(os.getpid())
    finally:
        os.waitpid(pid, 0)
