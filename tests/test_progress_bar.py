"""The progress bar does its work on the batches it redraws, not on every batch."""

from __future__ import annotations

import lightning.pytorch as pl
import pytest
import torch

from ganarena.callbacks import GANProgressBar
from ganarena.errors import GanArenaError


class CountingBar(GANProgressBar):
    def __init__(self, refresh_rate: int, max_redraws_per_second: float = 1e9) -> None:
        super().__init__(refresh_rate=refresh_rate, max_redraws_per_second=max_redraws_per_second)
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


def test_the_bar_updates_every_refresh_rate_batches_and_on_the_last(tmp_path) -> None:
    bar = CountingBar(refresh_rate=10)
    trainer = fit(bar, tmp_path)
    # batches 10, 20 and 25 (counted before they complete), then the end of the epoch
    assert bar.metric_updates == [9, 19, 24, 25]
    assert bar.progress.tasks[bar.train_progress_bar_id].completed == 25
    assert bar.get_metrics(trainer, trainer.lightning_module)["train/loss_d"] == 0.5


def test_the_bar_redraws_no_more_often_than_asked(tmp_path, monkeypatch) -> None:
    """A clock that moves 0.1 s a batch, at most two redraws a second: every fifth batch
    at most, so of those every refresh_rate=2 batches, one in three: batches 2, 8, 14..."""
    batches = [0]

    class Slow(Tiny):
        def training_step(self, batch, batch_idx: int):
            batches[0] = batch_idx + 1
            return super().training_step(batch, batch_idx)

    monkeypatch.setattr("ganarena.callbacks.progress_bar.time.monotonic", lambda: 0.1 * batches[0])
    bar = CountingBar(refresh_rate=2, max_redraws_per_second=2)
    trainer = pl.Trainer(
        max_epochs=1, logger=False, callbacks=[bar], enable_checkpointing=False,
        enable_model_summary=False, accelerator="cpu", default_root_dir=tmp_path,
    )  # fmt: skip
    trainer.fit(Slow(), torch.utils.data.DataLoader(torch.ones(25, 1)))
    # counted before they complete: batches 2, 8, 14, 20, the last, then the epoch's end
    assert bar.metric_updates == [1, 7, 13, 19, 24, 25]


def test_a_redraw_rate_that_is_not_positive_names_the_setting() -> None:
    with pytest.raises(GanArenaError, match="max_redraws_per_second"):
        GANProgressBar(max_redraws_per_second=0)
