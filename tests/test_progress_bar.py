"""The progress bar does its work on the batches it redraws, not on every batch."""

from __future__ import annotations

import lightning.pytorch as pl
import torch

from ganarena.callbacks import GANProgressBar


class CountingBar(GANProgressBar):
    def __init__(self, refresh_rate: int) -> None:
        super().__init__(refresh_rate=refresh_rate)
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


def test_the_bar_updates_every_refresh_rate_batches_and_on_the_last(tmp_path) -> None:
    bar = CountingBar(refresh_rate=10)
    trainer = pl.Trainer(
        max_epochs=1, logger=False, callbacks=[bar], enable_checkpointing=False,
        enable_model_summary=False, accelerator="cpu", default_root_dir=tmp_path,
    )  # fmt: skip
    trainer.fit(Tiny(), torch.utils.data.DataLoader(torch.ones(25, 1)))
    # batches 10, 20 and 25 (counted before they complete), then the end of the epoch
    assert bar.metric_updates == [9, 19, 24, 25]
    assert bar.progress.tasks[bar.train_progress_bar_id].completed == 25
    assert bar.get_metrics(trainer, trainer.lightning_module)["train/loss_d"] == 0.5
