"""All-reduce between the CPU processes of one machine through shared memory, without gloo.

Two gloo ranks on two busy CPU cores spend milliseconds per all-reduce that moves a few
kilobytes: each one hands the work to gloo's threads, which must wake and be scheduled on
cores the training processes keep busy (measured in docs/benchmarks.md: 4 to 5 ms per
training step of 8 ms). Here each rank copies its tensor into its own slot of a file mapped
by every rank, publishes a sequence number, and waits, spinning in its own thread, until
every rank has published it; then every rank reduces the slots in rank order itself, so the
result is bit for bit the same on every rank. Two sets of slots, used in turn, let a rank
write the next round while a slower one still reads this one. Tensors larger than a slot go
through in chunks.

Only for x86-64, whose memory model keeps a core's stores in order (the data before the
sequence number that announces it); elsewhere `GANDDPStrategy` keeps gloo.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ganarena.errors import GanArenaError

#: Floats per rank and round: 1 MiB slots, two per rank (16 MiB for 8 ranks, a quarter of a
#: container's default /dev/shm).
SLOT_FLOATS = 1 << 18
#: Bytes of the header: one sequence number and one process id per rank, a cache line each.
LINE = 64
REDUCTIONS = {"sum": torch.sum, "max": torch.amax}


def shared_memory_supported() -> bool:
    """Whether stores become visible to other cores in program order (x86-64)."""
    return platform.machine().lower() in ("x86_64", "amd64")


def new_shared_file(world_size: int, slot_floats: int = SLOT_FLOATS) -> Path:
    """A zeroed file for `world_size` ranks' slots, in RAM (/dev/shm) where the machine has it."""
    folder = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
    handle, name = tempfile.mkstemp(prefix="gan-arena-reduce-", dir=folder)
    try:
        os.posix_fallocate(handle, 0, file_bytes(world_size, slot_floats))  # OSError if full
    except OSError:
        os.unlink(name)
        raise
    finally:
        os.close(handle)
    return Path(name)


def file_bytes(world_size: int, slot_floats: int) -> int:
    """A header (two cache lines per rank) and two sets of slots."""
    return 2 * LINE * world_size + 2 * world_size * slot_floats * 4


class SharedMemoryAllReduce:
    """In-place all-reduce of float32 CPU tensors among `world_size` processes on one machine.

    Every rank maps the same `path` (made by `new_shared_file` on one rank, with the same
    `world_size` and `slot_floats`), then calls `all_reduce` in the same order with tensors of
    the same size, as with `torch.distributed`. A rank that waits longer than
    `timeout` seconds (torch.distributed's default, 30 minutes), or sees another rank's
    process gone, raises instead of hanging.
    """

    def __init__(
        self,
        path: Path,
        rank: int,
        world_size: int,
        timeout: float = 1800.0,
        slot_floats: int = SLOT_FLOATS,
    ) -> None:
        self.rank, self.world_size, self.timeout = rank, world_size, timeout
        self.slot_floats = slot_floats
        size = file_bytes(world_size, slot_floats)
        with open(path, "r+b") as file:
            self._map = mmap.mmap(file.fileno(), size)
        header = np.frombuffer(self._map, dtype=np.int64, count=2 * LINE * world_size // 8)
        per_line = LINE // 8
        self._sequence = header[: world_size * per_line : per_line]
        self._pids = header[world_size * per_line :: per_line]
        slots = np.frombuffer(self._map, dtype=np.float32, offset=2 * LINE * world_size)
        self._slots = torch.from_numpy(slots).view(2, world_size, slot_floats)
        self._round = 0

    def publish_pid(self) -> None:
        """Record this rank's process id, by which the others see that it is alive."""
        self._pids[self.rank] = os.getpid()

    def all_reduce(self, tensor: Tensor, op: str = "sum") -> None:
        """Replace `tensor` by its sum (or max) over all ranks."""
        if tensor.dtype != torch.float32 or tensor.device.type != "cpu":
            raise GanArenaError(
                f"the shared-memory all-reduce takes float32 CPU tensors, not {tensor.dtype} "
                f"on {tensor.device}"
            )
        reduce = REDUCTIONS[op]
        flat = tensor.reshape(-1)  # a view when contiguous, else a copy (written back below)
        for start in range(0, flat.numel(), self.slot_floats):
            chunk = flat[start : start + self.slot_floats]
            self._round += 1
            slots = self._slots[self._round % 2, :, : chunk.numel()]
            slots[self.rank].copy_(chunk)
            self._sequence[self.rank] = self._round  # after the data: x86-64 keeps the order
            self._wait_for_all(self._round)
            reduce(slots, dim=0, out=chunk)
        if flat.data_ptr() != tensor.data_ptr():
            tensor.copy_(flat.view_as(tensor))

    def _wait_for_all(self, round_: int) -> None:
        sequence = self._sequence
        deadline = time.monotonic() + self.timeout
        spins = 0
        while not (sequence >= round_).all():
            os.sched_yield()
            spins += 1
            if spins % 4096 == 0:
                self._check_others(round_, deadline)

    def _check_others(self, round_: int, deadline: float) -> None:
        waiting_for = [int(r) for r in np.flatnonzero(self._sequence < round_)]
        for rank in waiting_for:
            pid = int(self._pids[rank])
            if pid and not process_alive(pid):
                raise GanArenaError(
                    f"rank {rank} (process {pid}) has stopped: its error, above or in its "
                    "log, says why; this rank stops too"
                )
        if time.monotonic() > deadline:
            raise GanArenaError(
                f"ranks {waiting_for} did not reach all-reduce {round_} within "
                f"{self.timeout:.0f} s: a rank is stuck or has stopped"
            )

    def close(self) -> None:
        del self._slots, self._sequence, self._pids
        with contextlib.suppress(BufferError):  # a view still lives: the collector closes it
            self._map.close()


def process_alive(pid: int) -> bool:
    """Whether process `pid` runs (an ended child that its parent has not reaped yet does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            if stat.read().rpartition(")")[2].split()[0] in ("Z", "X"):
                return False
    except OSError:
        pass  # no /proc: ask the kernel below
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
