"""A callback that counts host reads of tensors (`.item()`, `bool()`, `.cpu()`, ...) per
training step, for the test that a step which does not log reads nothing back."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import lightning.pytorch as pl
import torch

#: What reads a tensor's values into Python (on a GPU each waits for the device).
READS = ("item", "tolist", "cpu", "numpy", "__bool__", "__float__", "__int__", "__index__")
#: The counters built since the list was last cleared (a run builds its own from the config).
COUNTERS: list[HostReadCounter] = []


class HostReadCounter(pl.Callback):
    """Window t runs from the end of step t-1's callbacks to the end of step t's, so it
    holds everything the loop, the module and every callback do for step t (and the module's
    row writing of step t-1). `reads[t]` counts the reads in it, `where[t]` names them."""

    def __init__(self) -> None:
        self.reads: dict[int, int] = {}
        self.where: dict[int, list[str]] = {}
        self.logging_steps: set[int] = set()
        #: Steps that read by their nature: a checkpoint saved, an epoch begun or ended.
        self.own_steps: set[int] = set()
        self.step = 0
        self.steps_done = 0
        COUNTERS.append(self)

    def record(self, name: str) -> None:
        self.reads[self.step] = self.reads.get(self.step, 0) + 1
        self.where.setdefault(self.step, []).append(f"{name} in {caller()}")

    def on_train_batch_end(self, trainer: pl.Trainer, module: Any, *args: Any) -> None:
        if module.logs_this_step:
            self.logging_steps.add(self.step)
        self.steps_done = self.step
        self.step += 1

    def on_train_start(self, trainer: pl.Trainer, module: Any) -> None:
        self.step = 1

    def on_train_epoch_start(self, trainer: pl.Trainer, module: Any) -> None:
        self.own_steps.add(self.step)  # the loader's new epoch: its order, made on the host

    def on_train_epoch_end(self, trainer: pl.Trainer, module: Any) -> None:
        self.own_steps.add(self.steps_done)  # the NaN guard's epoch check, epoch checkpoints

    def on_save_checkpoint(self, trainer: pl.Trainer, module: Any, checkpoint: Any) -> None:
        self.own_steps.add(self.step if self.step > 0 else self.steps_done)

    def on_train_end(self, trainer: pl.Trainer, module: Any) -> None:
        self.step = -1  # what fit does after the last step is not a step's


def caller(depth: int = 8) -> str:
    """file:line of the code that asked for the read (outside torch and this module), and
    of `depth` - 1 callers above it."""
    frames = [
        f"{frame.filename.split('site-packages/')[-1]}:{frame.lineno}"
        for frame in reversed(traceback.extract_stack()[:-3])
        if "/torch/" not in frame.filename and not frame.filename.endswith("host_reads.py")
    ]
    return " < ".join(frames[:depth])


def host_resident(stack: list[traceback.FrameSummary]) -> bool:
    """Reads that are no device sync on any device: torch.optim's step counts, which torch
    keeps on the host unless an optimizer is capturable or fused."""
    return any("/torch/optim/" in frame.filename for frame in stack)


@contextmanager
def counting() -> Iterator[None]:
    """Count every read into the counters in `COUNTERS` (patched on torch.Tensor, restored
    after); a counter counts only inside the training steps."""
    originals: dict[str, Callable] = {name: getattr(torch.Tensor, name) for name in READS}

    def counted(name: str, original: Callable) -> Callable:
        def read(self: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
            for counter in COUNTERS:
                if counter.step > 0 and not host_resident(traceback.extract_stack(limit=8)):
                    counter.record(name)
            return original(self, *args, **kwargs)

        return read

    for name, original in originals.items():
        setattr(torch.Tensor, name, counted(name, original))
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(torch.Tensor, name, original)
