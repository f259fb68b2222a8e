"""The progress bar, showing the module's latest losses without reading the device."""

from __future__ import annotations

import time
from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.callbacks import RichProgressBar

from ganarena.options import require_positive


class GANProgressBar(RichProgressBar):
    """Lightning's rich progress bar with the module's `progress_bar_values` (numbers read
    on logging steps) beside its own fields. Values logged with `prog_bar=True` would be
    read off the device on every step instead, until the epoch ends.

    It redraws every `refresh_rate` batches, but at most `max_redraws_per_second` times a
    second, and on each epoch's last batch: a redraw costs about 0.3 ms on a CPU, and a GPU
    step can be shorter than that."""

    #: Batches between redraws, and the epoch's batches, read at each epoch's start.
    _redraw_every: int = 1
    _epoch_batches: int | float = 0
    _next_redraw: float = 0.0  # time.monotonic() after which the bar may redraw

    def __init__(self, *args: Any, max_redraws_per_second: float = 4.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        name = "callbacks.rich_progress_bar.max_redraws_per_second"
        self.redraw_interval = 1 / require_positive(name, max_redraws_per_second, 4)

    def get_metrics(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> dict[str, Any]:
        metrics = super().get_metrics(trainer, pl_module)
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
        """Redraw every `refresh_rate` batches, not sooner than `redraw_interval` seconds
        after the last redraw, and on an epoch's last batch: Lightning's bar updates its task
        and gathers its metrics on every batch, then draws only on some."""
        done = batch_idx + 1
        if done != self._epoch_batches and (
            done % self._redraw_every or time.monotonic() < self._next_redraw
        ):
            return
        self._next_redraw = time.monotonic() + self.redraw_interval
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Read the redraw interval and the epoch's length once an epoch, not every batch."""
        super().on_train_epoch_start(trainer, pl_module)
        self._redraw_every = max(self.refresh_rate, 1)
        self._epoch_batches = self.total_train_batches
