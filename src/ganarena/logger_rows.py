"""The rows gan-arena writes to its loggers: one per logging step, on the training-step axis.

Lightning's loggers get their rows on its own schedule and with its own step: the batch
count during an epoch, but `trainer.global_step` (optimizer steps, n_critic + 1 per training
step) for values logged outside the loop, and none at all at the end of fit. A GAN run mixes
both (losses every 50 steps, FID every 500 and at the end of fit), so `GANModule.log` hands
Lightning every value for monitors and the progress bar only, collects it here, and the
module writes one row per logging step to every logger through `Logger.log_metrics`, its
step the number of training steps done.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import torch
from lightning.pytorch.loggers import Logger
from torch import Tensor

Value = Tensor | float | int


def as_floats(values: Mapping[str, Value]) -> dict[str, float]:
    """The values as numbers, in their order, the tensors (one number each) read off their
    device together: one read per device and dtype, where a `float` each would wait for
    the device once per value."""
    groups: dict[tuple[torch.device, torch.dtype], list[str]] = {}
    for key, value in values.items():
        if isinstance(value, Tensor):
            groups.setdefault((value.device, value.dtype), []).append(key)
    read: dict[str, float] = {}
    for keys in groups.values():
        stacked = torch.stack([values[key].detach().reshape(()) for key in keys])
        read.update(zip(keys, map(float, stacked.tolist()), strict=True))
    return {key: read[key] if key in read else float(value) for key, value in values.items()}


class LoggerRows:
    """Collects a step's values and writes them as one row; remembers the last of each key."""

    def __init__(self) -> None:
        self.pending: dict[str, Value] = {}
        #: The last value written under each key (what a sweep's `optimized_metric` returns).
        self.last_written: dict[str, float] = {}
        #: Every row written, as (training step, row): for the run's closing summary.
        self.history: list[tuple[int, dict[str, float]]] = []
        #: Write the pending values at the end of this training step even if it is not a
        #: logging step: a measurement's values belong to the step it measured.
        self.due = False

    def add(self, values: Mapping[str, Value]) -> None:
        self.pending.update(values)

    def write(self, loggers: Iterable[Logger], step: int, rank_zero: bool = True) -> None:
        """Write the pending values as the row of training step `step`.

        The values are read off the device here, on logging steps only; ranks other than
        zero drop them (Lightning's loggers write from rank zero alone).
        """
        if not self.pending:
            return
        row = as_floats(self.pending) if rank_zero else {}
        self.pending, self.due = {}, False
        for logger in loggers if rank_zero else ():
            logger.log_metrics(row, step=step)
            logger.save()
        self.last_written.update(row)
        self.history.append((step, row))
