"""The schedule and logging that every measurement callback shares.

A measurement runs every `every_n_steps` training steps and at the end of fit, on every
rank (metric `compute` is a collective under DDP). Values go into the same logger row as the
step's losses when the loggers write on that step, and straight to the loggers otherwise;
either way they land in `trainer.callback_metrics`, so ModelCheckpoint can monitor them
and `optimized_metric` can return them to a sweeper.
"""

from __future__ import annotations

import logging
from typing import Any

import lightning.pytorch as pl
import torch

from ganarena.callbacks.schedule import training_steps
from ganarena.data.base import GANDataModule
from ganarena.features.base import FeatureUnavailable

log = logging.getLogger(__name__)


def is_last_training_batch(trainer: pl.Trainer, batch_idx: int) -> bool:
    """Whether the fit loop stops after this batch (max_steps, or the last batch of max_epochs)."""
    if trainer.max_steps is not None and 0 < trainer.max_steps <= trainer.global_step:
        return True
    max_epochs = trainer.max_epochs
    last_epoch = (
        max_epochs is not None and max_epochs >= 0 and trainer.current_epoch + 1 >= max_epochs
    )
    return last_epoch and batch_idx + 1 >= trainer.num_training_batches


def forget_logged(trainer: pl.Trainer, names: set[str]) -> None:
    """Drop values logged on an earlier step, so the next logger write does not repeat them.

    Lightning keeps a step value until it is logged again or the epoch ends; a value logged
    now and then (every 500 steps) would otherwise reappear in every later row.
    """
    results = getattr(trainer, "_results", None)
    if not names or results is None:
        return
    for result in results.values():
        if result.meta.name in names and not result.has_reset:
            result.reset()


class ScheduledMeasurement(pl.Callback):
    """Subclasses give `prepare` (return a reason to skip, or None) and `measure`."""

    #: Short name used in log lines and config keys.
    label = "measurement"

    def __init__(self, every_n_steps: int = 500, seed: int = 1234) -> None:
        self.every_n_steps = every_n_steps
        self.seed = seed
        self.enabled = True
        self._last_measured = -1
        self._logged: set[str] = set()

    # -- what a subclass provides ---------------------------------------------------------
    def prepare(self, datamodule: GANDataModule, device: torch.device) -> str | None:
        """Set up for this data; return why the measurement does not apply, or None."""
        return None

    def measure(self, module: pl.LightningModule, datamodule: GANDataModule, tag: object) -> dict:
        raise NotImplementedError

    def mismatch(self, module: pl.LightningModule) -> str | None:
        """Why the measurement does not apply to this module (say, it is unconditional)."""
        return None

    def describe(self) -> dict[str, Any]:
        """Settings recorded with the results (e.g. the feature extractor)."""
        return {}

    # -- setup, shared by training and `eval.py` ------------------------------------------
    def try_prepare(self, module: pl.LightningModule, datamodule: GANDataModule) -> bool:
        """Prepare; on a module or data that does not fit or a missing extractor, one line
        and disable (before any real statistics are computed for nothing)."""
        try:
            reason = self.mismatch(module) or self.prepare(datamodule, module.device)
        except FeatureUnavailable as error:
            reason = str(error)
            log.warning("%s: disabled, training goes on without it: %s", self.label, reason)
            self.enabled = False
            return False
        if reason is not None:
            log.info("%s: skipped: %s", self.label, reason)
        self.enabled = reason is None
        return self.enabled

    # -- Lightning hooks --------------------------------------------------------------------
    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        datamodule = trainer.datamodule
        datamodule.setup("fit")
        if self.try_prepare(pl_module, datamodule):
            settings = {f"{self.label}/{key}": value for key, value in self.describe().items()}
            for logger in trainer.loggers:
                logger.log_hyperparams(settings)

    def on_train_batch_start(self, trainer: pl.Trainer, *args) -> None:
        forget_logged(trainer, self._logged)
        self._logged = set()

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs, batch, batch_idx: int
    ) -> None:
        if not self.enabled:
            return
        step = training_steps(trainer, pl_module)
        due = self.every_n_steps > 0 and step % self.every_n_steps == 0
        if due or is_last_training_batch(trainer, batch_idx):
            self._measure_and_log(trainer, pl_module, step, in_step=True)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        step = training_steps(trainer, pl_module)
        if self.enabled and step != self._last_measured:
            self._measure_and_log(trainer, pl_module, step, in_step=False)

    def _measure_and_log(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, step: int, in_step: bool
    ) -> None:
        self._last_measured = step
        values = self.measure(pl_module, trainer.datamodule, tag=("step", step))
        if in_step and trainer._logger_connector.should_update_logs:
            pl_module.log_dict(values, on_step=True, on_epoch=False)  # the losses' row
            self._logged = set(values)
        else:
            for logger in trainer.loggers:
                logger.log_metrics(values, step=trainer.global_step)
        trainer.callback_metrics.update({key: torch.tensor(value) for key, value in values.items()})
