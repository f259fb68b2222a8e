"""A loader that resumes where it stopped: the same order, from the same batch, on every rank.

Each epoch's order is a permutation drawn from (seed, epoch) alone, and each rank takes its
own equal share of it, so nothing about the order lives in a random state. The loader's state
(`state_dict`, which Lightning saves in checkpoints and restores on resume) is the epoch and
the number of training steps already taken in it; a resumed loader skips that many batches of
the same permutation. Mid-epoch resume is then exact, without re-reading any data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch.utils.data import DataLoader, Sampler

from ganarena.ranks import rank_and_world_size


class EpochPermutation(Sampler[int]):
    """This rank's share of a permutation of `size` indices that depends on (seed, epoch).

    The permutation is cut to a whole number of `batch`-sized batches per rank, so every rank
    makes the same number of steps (the tail of each epoch's order is not used, as with
    `drop_last`). `set_epoch` is called by Lightning at the start of every epoch.
    """

    def __init__(self, size: int, batch: int, seed: int = 0) -> None:
        self.size = size
        self.batch = batch
        self.seed = seed
        self.epoch = 0
        self.resume_at: tuple[int, int] | None = None  # (epoch, batches to skip)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def batches_per_rank(self) -> int:
        return self.size // (self.batch * rank_and_world_size()[1])

    def __len__(self) -> int:
        return self.batches_per_rank() * self.batch

    def __iter__(self) -> Iterator[int]:
        # A generator: the order is drawn at the first index, after Lightning's set_epoch.
        yield from self.remaining_order().tolist()

    def remaining_order(self) -> torch.Tensor:
        """This rank's indices for the current epoch, after those a resume skips."""
        rank, world = rank_and_world_size()
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        order = torch.randperm(self.size, generator=generator)
        order = order[: self.batches_per_rank() * self.batch * world]
        mine = order.view(-1, world, self.batch)[:, rank].reshape(-1)
        skip = 0
        if self.resume_at is not None and self.resume_at[0] == self.epoch:
            skip = self.resume_at[1] * self.batch
        self.resume_at = None
        return mine[skip:]


class EpochBatches(EpochPermutation):
    """`EpochPermutation`'s order as one index tensor per batch, on `device`.

    The epoch's order is copied to the device once, so that batches gathered from data held
    there copy nothing from the host (for a DataLoader with `batch_size=None`).
    """

    def __init__(self, size: int, batch: int, seed: int, device: torch.device) -> None:
        super().__init__(size, batch, seed)
        self.device = device

    def __len__(self) -> int:
        return self.batches_per_rank()

    def __iter__(self) -> Iterator[torch.Tensor]:  # type: ignore[override]
        yield from self.remaining_order().to(self.device).view(-1, self.batch)


class ResumableLoader(DataLoader):
    """A DataLoader over an `EpochPermutation` whose position survives a checkpoint.

    `position` reports (epoch, training steps taken in it) when Lightning saves: the steps
    taken, not the batches fetched, since Lightning fetches one batch ahead.
    """

    def __init__(self, *args: Any, position: Callable[[], tuple[int, int]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.position = position

    def state_dict(self) -> dict[str, int]:
        epoch, steps = self.position()
        return {"epoch": epoch, "steps": steps}

    def load_state_dict(self, state: dict[str, int]) -> None:
        assert isinstance(self.sampler, EpochPermutation)
        self.sampler.resume_at = (int(state["epoch"]), int(state["steps"]))
