"""Every random draw of training step t on rank r comes from the seed (seed, r, t).

A resumed run then draws exactly what the uninterrupted one would have, with no random state
to save in the checkpoint, and every rank of a data-parallel run draws its own noise.
"""

from __future__ import annotations

import torch


def step_seed(seed: int, rank: int, step: int) -> int:
    """The seed of training step `step` on rank `rank`: distinct for every (seed, rank, step)."""
    return (seed * 1_000_003 + rank) * 1_000_000_007 + step


def seed_draws(seed: int, device: torch.device) -> None:
    """Seed the random draws made on `device` (and on the CPU). On a CPU run only the CPU
    generator: `torch.manual_seed` also queues a CUDA seed on a CUDA build, which costs a
    millisecond per call under Lightning's deep call stack while CUDA is not initialised."""
    if device.type == "cpu":
        torch.default_generator.manual_seed(seed)
    else:
        torch.manual_seed(seed)
