"""The progress bar, showing the module's latest losses without reading the device."""

from __future__ import annotations

import time
from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.callbacks import RichProgressBar
from lightning.pytorch.callbacks.progress.progress_bar import get_standard_metrics
from torch import Tensor

from ganarena.options import require_positive


def _draw_nothing() -> None:
    """Stands in for rich's `Progress.refresh` while the bar resets its task."""


class GANProgressBar(RichProgressBar):
    """Lightning's rich progress bar with the module's `progress_bar_values` (numbers read
    on logging steps) beside its own fields. Values logged with `prog_bar=True` would be
    read off the device on every step instead, until the epoch ends.

    It draws at most `max_redraws_per_second` times a second: each drawing of the table
    holds the interpreter about 0.6 ms on a CPU (in the bar's refresh thread, but under the
    GIL), and Lightning asks for one at every batch it updates and twice an epoch, which on
    small data (28 steps of 6 ms an epoch on the digits) cost 0.8% of the run. It updates
    every `refresh_rate` batches and at an epoch's end when it may draw, on each epoch's last
    batch when it `leave`s each epoch's bar on screen, and at the end of training, before
    its last drawing."""

    #: Batches between updates, and the epoch's batches, read at each epoch's start.
    _redraw_every: int = 1
    _epoch_batches: int | float = 0
    _next_redraw: float = 0.0  # time.monotonic() after which the bar may draw again
    _standard_metrics: dict[str, Any] | None = None

    def __init__(
        self, *args: Any, max_redraws_per_second: float = 2.0, leave: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, leave=leave, **kwargs)
        self.leaves_epochs = leave
        name = "callbacks.rich_progress_bar.max_redraws_per_second"
        self.redraw_interval = 1 / require_positive(name, max_redraws_per_second, 2)

    def refresh(self, hard: bool = False) -> None:
        """Draw, unless the last drawing was under `redraw_interval` seconds ago (a hard
        refresh always draws)."""
        if not hard:
            now = time.monotonic()
            if now < self._next_redraw:
                return
            self._next_redraw = now + self.redraw_interval
        super().refresh(hard)

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        super().on_train_start(trainer, pl_module)
        self._standard_metrics = None  # this fit's loggers

    def get_metrics(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> dict[str, Any]:
        """Lightning's (the run's version, and values logged with `prog_bar=True` as
        numbers), then the module's: the version is read once a fit, not at each update
        (W&B's takes 40 us), and a flat dict needs no walk through `apply_to_collection`."""
        if self._standard_metrics is None:
            self._standard_metrics = get_standard_metrics(trainer)
        metrics: dict[str, Any] = dict(self._standard_metrics)
        for name, value in trainer.progress_bar_metrics.items():
            metrics[name] = value.item() if isinstance(value, Tensor) else value
        metrics.update(getattr(pl_module, "progress_bar_values", {}))
        return metrics

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        """Update every `refresh_rate` batches when the bar may draw (and on an epoch's last
        batch when its bar stays): Lightning's updates its task and gathers its metrics on
        every batch."""
        done = batch_idx + 1
        last_kept = self.leaves_epochs and done == self._epoch_batches
        if not last_kept and (done % self._redraw_every or time.monotonic() < self._next_redraw):
            return
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Lightning's (the epoch's values, and a drawing) when the bar may draw now, or when
        the epoch's bar stays on screen."""
        if self.leaves_epochs or time.monotonic() >= self._next_redraw:
            super().on_train_epoch_end(trainer, pl_module)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Bring the task and the values up to date for the bar's last drawing, when it stops:
        the updates since its last drawing were skipped."""
        if self.progress is not None and self.train_progress_bar_id is not None:
            done = trainer.fit_loop.epoch_loop.batch_progress.current.completed
            self.progress.update(self.train_progress_bar_id, completed=done)
            super().on_train_epoch_end(trainer, pl_module)  # the values, and a drawing

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Reset the bar's task for the new epoch and leave the drawing to `refresh`:
        rich's `Progress.reset` draws the table at once, whenever it is called. Read the
        update interval and the epoch's length once an epoch, not every batch."""
        progress = self.progress
        if progress is not None:
            progress.refresh = _draw_nothing  # for this call: it shadows the method
        try:
            super().on_train_epoch_start(trainer, pl_module)
        finally:
            if progress is not None:
                del progress.refresh
        self._redraw_every = max(self.refresh_rate, 1)
        self._epoch_batches = self.total_train_batches
