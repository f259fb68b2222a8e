"""The progress bar does its work on the batches it redraws, not on every batch."""

from __future__ import annotations

import lightning.pytorch as pl
import lightning.pytorch.callbacks.progress.progress_bar
import pytest
import rich.progress
import torch
from lightning.pytorch.callbacks import RichProgressBar
from lightning.pytorch.loggers import CSVLogger

import ganarena.callbacks.progress_bar
from ganarena.callbacks import GANProgressBar
from ganarena.errors import GanArenaError


class CountingBar(GANProgressBar):
    def __init__(self, refresh_rate: int, max_redraws_per_second: float = 1e9, **options) -> None:
        super().__init__(
            refresh_rate=refresh_rate, max_redraws_per_second=max_redraws_per_second, **options
        )
        self.metric_updates: list[int] = []

    def _update_metrics(self, trainer, pl_module) -> None:
        self.metric_updates.append(trainer.fit_loop.epoch_loop.batch_progress.current.completed)
        super()._update_metrics(trainer, pl_module)


class Tiny(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(1, 1)
        self.progress_bar_values = {"train/loss_d": 0.5}

    def training_step(self, batch, batch_idx: int):
        return self.layer(batch).sum()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def fit(bar: GANProgressBar, folder, batches: int = 25) -> pl.Trainer:
    trainer = pl.Trainer(
        max_epochs=1, logger=False, callbacks=[bar], enable_checkpointing=False,
        enable_model_summary=False, accelerator="cpu", default_root_dir=folder,
    )  # fmt: skip
    trainer.fit(Tiny(), torch.utils.data.DataLoader(torch.ones(batches, 1)))
    return trainer


def test_the_bar_updates_every_refresh_rate_batches_and_at_the_end(tmp_path) -> None:
    bar = CountingBar(refresh_rate=10)
    trainer = fit(bar, tmp_path)
    # batches 10 and 20 (counted before they complete), the epoch's end, the end of fit
    assert bar.metric_updates == [9, 19, 25, 25]
    assert bar.progress.tasks[bar.train_progress_bar_id].completed == 25
    assert bar.get_metrics(trainer, trainer.lightning_module)["train/loss_d"] == 0.5


def test_the_bar_draws_no_more_often_than_asked(tmp_path, monkeypatch) -> None:
    """A clock that moves 1/8 s a batch, at most two drawings a second: the epoch's start
    draws (t=0), then every fourth batch may, and of those the bar updates on every
    refresh_rate=2nd; the last batch and the epoch's end may not."""
    batches, drawn = [0], []

    class Slow(Tiny):
        def training_step(self, batch, batch_idx: int):
            batches[0] = batch_idx + 1
            return super().training_step(batch, batch_idx)

    clock = lambda: batches[0] / 8  # noqa: E731
    monkeypatch.setattr("ganarena.callbacks.progress_bar.time.monotonic", clock)
    bar = CountingBar(refresh_rate=2, max_redraws_per_second=2)
    lightnings_refresh = RichProgressBar.refresh

    def refresh(self, hard: bool = False) -> None:  # Lightning's: it asks rich to draw
        drawn.append(clock())
        lightnings_refresh(self, hard)

    monkeypatch.setattr(RichProgressBar, "refresh", refresh)
    trainer = pl.Trainer(
        max_epochs=1, logger=False, callbacks=[bar], enable_checkpointing=False,
        enable_model_summary=False, accelerator="cpu", default_root_dir=tmp_path,
    )  # fmt: skip
    trainer.fit(Slow(), torch.utils.data.DataLoader(torch.ones(25, 1)))
    assert drawn == [0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
    # counted before they complete: batches 4, 8, ..., 24; not the epoch's end (t=3.125),
    # but the end of fit, for the drawing when the bar stops
    assert bar.metric_updates == [3, 7, 11, 15, 19, 23, 25]
    assert bar.progress.tasks[bar.train_progress_bar_id].completed == 25


def test_a_redraw_rate_that_is_not_positive_names_the_setting() -> None:
    with pytest.raises(GanArenaError, match="max_redraws_per_second"):
        GANProgressBar(max_redraws_per_second=0)


def test_a_new_epoch_leaves_the_drawing_to_the_bars_thread(tmp_path, monkeypatch) -> None:
    """rich's `Progress.reset` draws the table at once (0.6 ms); at an epoch's start the bar
    resets its task for the epoch and only asks its refresh thread to draw it."""
    draws: list[int] = []
    monkeypatch.setattr(rich.progress.Progress, "refresh", lambda self: draws.append(1))

    class EpochBar(CountingBar):
        epoch_start_draws: list[int] = []

        def on_train_epoch_start(self, trainer, pl_module) -> None:
            before = len(draws)
            super().on_train_epoch_start(trainer, pl_module)
            self.epoch_start_draws.append(len(draws) - before)
            task = self.progress.tasks[self.train_progress_bar_id]
            assert (task.completed, task.total) == (0, 5)
            assert task.description.startswith(f"Epoch {trainer.current_epoch}/")

    bar = EpochBar(refresh_rate=10)
    trainer = pl.Trainer(
        max_epochs=3, logger=False, callbacks=[bar], enable_checkpointing=False,
        enable_model_summary=False, accelerator="cpu", default_root_dir=tmp_path,
    )  # fmt: skip
    trainer.fit(Tiny(), torch.utils.data.DataLoader(torch.ones(5, 1)))
    assert bar.epoch_start_draws == [0, 0, 0]
    assert "refresh" not in vars(bar.progress)  # the method is rich's again


def test_the_bars_values_are_lightnings_and_the_modules(tmp_path, monkeypatch) -> None:
    """The run's version (read once a fit), values logged with prog_bar=True as numbers,
    then the module's `progress_bar_values`: what Lightning's rich bar shows, and more."""
    versions = []

    def get_standard_metrics(trainer):
        versions.append(trainer.global_step)
        return lightning.pytorch.callbacks.progress.progress_bar.get_standard_metrics(trainer)

    monkeypatch.setattr(
        ganarena.callbacks.progress_bar, "get_standard_metrics", get_standard_metrics
    )

    class Logging(Tiny):
        def training_step(self, batch, batch_idx: int):
            loss = super().training_step(batch, batch_idx)
            self.log("shown", loss.detach() * 0 + 2.0, prog_bar=True)
            return loss

    bar = CountingBar(refresh_rate=1)
    trainer = pl.Trainer(
        max_epochs=2, logger=CSVLogger(tmp_path), callbacks=[bar], enable_checkpointing=False,
        enable_model_summary=False, accelerator="cpu", default_root_dir=tmp_path,
    )  # fmt: skip
    module = Logging()
    trainer.fit(module, torch.utils.data.DataLoader(torch.ones(5, 1)))
    assert versions == [1]  # once a fit: at the first update, after step 1
    lightnings = RichProgressBar.get_metrics(bar, trainer, module)
    assert lightnings == {"v_num": 0, "shown": 2.0}
    assert bar.get_metrics(trainer, module) == {**lightnings, "train/loss_d": 0.5}
    assert type(bar.get_metrics(trainer, module)["shown"]) is float


def test_a_bar_left_on_screen_each_epoch_ends_each_at_its_last_batch(tmp_path) -> None:
    bar = CountingBar(refresh_rate=10, max_redraws_per_second=1e-9, leave=True)  # draws once
    fit(bar, tmp_path, batches=25)
    assert bar.metric_updates == [24, 25, 25]  # the last batch, the epoch's end, fit's end
