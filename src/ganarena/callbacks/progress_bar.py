"""One progress bar over the whole run, in training steps."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.callbacks import ProgressBar
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text
from torch import Tensor

from ganarena.options import require_positive
from ganarena.run_length import planned_training_steps

#: The names the bar shows its values under: the last part of each key.
SHOWN_KEYS = ("train/loss_d", "train/loss_g", "val/fid")


class StepsPerSecond(ProgressColumn):
    """Training steps per second over rich's window (the last 30 s), measurements included."""

    def render(self, task: Task) -> Text:
        speed = task.speed
        return Text("- steps/s" if speed is None else f"{speed:,.1f} steps/s", style="cyan")


def short_values(values: dict[str, float]) -> str:
    return "  ".join(f"{key.rsplit('/', 1)[-1]} {value:.4g}" for key, value in values.items())


class GANProgressBar(ProgressBar):
    """Training steps done of the run's planned total, a true steps/s, the time left, and
    the latest values of `keys` (and of anything logged with `prog_bar=True`), read on
    logging steps only: the bar reads nothing from the device on the others.

    On a terminal it is a rich bar redrawn `refresh_per_second` times a second by rich's own
    thread; elsewhere (a log file, CI, a SLURM job) it writes a line every
    `plain_every_seconds` seconds and one at the end.
    """

    def __init__(
        self,
        keys: Sequence[str] = SHOWN_KEYS,
        refresh_per_second: float = 2.0,
        plain_every_seconds: float = 60.0,
        console: Console | None = None,
    ) -> None:
        super().__init__()
        self.keys = list(keys)
        self.refresh_per_second = require_positive(
            "callbacks.rich_progress_bar.refresh_per_second", refresh_per_second, 2
        )
        self.plain_every_seconds = plain_every_seconds
        self.console = console
        self.enabled = True
        self.progress: Progress | None = None
        self.task_id: Any = None
        #: What was logged with `prog_bar=True`, read on the last logging step.
        self.logged: dict[str, float] = {}
        self.total: int | None = None
        self._last_line = (0.0, 0)  # time and step of the last plain line

    def disable(self) -> None:
        self.enabled = False

    def enable(self) -> None:
        self.enabled = True

    def on_train_start(self, trainer: pl.Trainer, pl_module: Any) -> None:
        if not self.enabled:
            return
        self.console = self.console or Console()
        self.total = planned_training_steps(trainer, pl_module.loss.n_critic)
        done = pl_module.training_steps
        self._last_line = (time.monotonic(), done)
        if self.console.is_terminal:
            self.progress = Progress(
                TextColumn("[bold]training steps"),
                BarColumn(),
                MofNCompleteColumn(),
                StepsPerSecond(),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[values]}"),
                console=self.console,
                refresh_per_second=self.refresh_per_second,
            )
            self.progress.start()
            self.task_id = self.progress.add_task("", total=self.total, completed=done, values="")

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: Any, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if not self.enabled:
            return
        step = pl_module.training_steps
        if pl_module.logs_this_step:
            self.read_logged(trainer)
        if self.progress is not None:
            values = self.values(pl_module)
            self.progress.update(self.task_id, completed=step, values=values)
        elif time.monotonic() - self._last_line[0] >= self.plain_every_seconds:
            self.write_line(step, self.values(pl_module))

    def read_logged(self, trainer: pl.Trainer) -> None:
        for key, value in trainer.progress_bar_metrics.items():
            self.logged[key] = float(value.item() if isinstance(value, Tensor) else value)

    def values(self, pl_module: Any) -> str:
        """`keys` from the module's last logger row (numbers already), and `logged`."""
        written = pl_module.logger_rows.last_written
        values = {key: written[key] for key in self.keys if key in written}
        return short_values({**values, **self.logged})

    def write_line(self, step: int, values: str) -> None:
        """A plain line: steps done, steps/s since the last line, time left, the values."""
        now = time.monotonic()
        then, then_step = self._last_line
        speed = (step - then_step) / max(now - then, 1e-9)
        line = f"training step {step:,}" + (f"/{self.total:,}" if self.total else "")
        line += f"  {speed:,.1f} steps/s"
        if self.total and speed > 0:
            line += f"  eta {timedelta(seconds=round((self.total - step) / speed))}"
        self.console.print(f"{line}  {values}".rstrip(), highlight=False, soft_wrap=True)
        self._last_line = (now, step)

    def on_train_end(self, trainer: pl.Trainer, pl_module: Any) -> None:
        if not self.enabled:
            return
        self.read_logged(trainer)
        step, values = pl_module.training_steps, self.values(pl_module)
        if self.progress is not None:
            self.progress.update(self.task_id, completed=step, values=values)
        else:
            self.write_line(step, values)
        self.stop()

    def on_exception(self, trainer: pl.Trainer, pl_module: Any, exception: BaseException) -> None:
        self.stop()

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
