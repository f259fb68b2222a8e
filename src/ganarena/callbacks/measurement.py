"""The schedule and logging that every measurement callback shares.

A measurement runs every `every_n_steps` training steps and at the end of fit, on every
rank (metric `compute` is a collective under DDP). Its values go through `pl_module.log`
(so ModelCheckpoint and EarlyStopping can monitor them) and make the step's logger row be
written at that step, logging step or not; `optimized_metric` returns the last value
written to a sweeper.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import lightning.pytorch as pl
import torch

from ganarena.data.base import GANDataModule
from ganarena.features.base import FeatureUnavailable
from ganarena.gan_module import GANModule
from ganarena.loggers import define_summaries

log = logging.getLogger(__name__)


class ScheduledMeasurement(pl.Callback):
    """Subclasses give `prepare` (return a reason to skip, or None) and `measure`."""

    #: Short name used in log lines and config keys.
    label = "measurement"
    #: Which value of each logged metric is the best: "min" or "max" (the W&B run summary).
    summaries: Mapping[str, str] = {}

    def __init__(self, every_n_steps: int = 500, seed: int = 1234) -> None:
        self.every_n_steps = every_n_steps
        self.seed = seed
        self.enabled = True
        self._last_measured = -1

    # -- what a subclass provides ---------------------------------------------------------
    def prepare(self, datamodule: GANDataModule, device: torch.device) -> str | None:
        """Set up for this data; return why the measurement does not apply, or None."""
        return None

    def measure(self, module: GANModule, datamodule: GANDataModule, tag: object) -> dict:
        raise NotImplementedError

    def mismatch(self, module: GANModule) -> str | None:
        """Why the measurement does not apply to this module (say, it is unconditional)."""
        return None

    def describe(self) -> dict[str, Any]:
        """Settings recorded with the results (e.g. the feature extractor)."""
        return {}

    # -- setup, shared by training and `eval.py` ------------------------------------------
    def try_prepare(self, module: GANModule, datamodule: GANDataModule) -> bool:
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

    # -- state: a resumed run keeps its schedule and its best values -------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"last_measured": self._last_measured}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._last_measured = int(state_dict.get("last_measured", -1))

    # -- Lightning hooks --------------------------------------------------------------------
    def on_fit_start(self, trainer: pl.Trainer, pl_module: GANModule) -> None:
        datamodule = trainer.datamodule
        datamodule.setup("fit")
        if self.try_prepare(pl_module, datamodule):
            settings = {f"{self.label}/{key}": value for key, value in self.describe().items()}
            for logger in trainer.loggers:
                logger.log_hyperparams(settings)
            define_summaries(trainer.loggers, self.summaries)

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: GANModule, outputs, batch, batch_idx: int
    ) -> None:
        if not self.enabled:
            return
        step = pl_module.training_steps
        due = self.every_n_steps > 0 and step % self.every_n_steps == 0
        if due or pl_module.is_last_step:
            values = self._measure(pl_module, step)
            pl_module.log_dict(values)

    def on_train_end(self, trainer: pl.Trainer, pl_module: GANModule) -> None:
        """A fit stopped before its last step (a signal, a callback's `should_stop`) is
        measured here; Lightning takes no logged values after the loop, so they go straight
        into the last row."""
        step = pl_module.training_steps
        if self.enabled and step != self._last_measured:
            pl_module.logger_rows.add(self._measure(pl_module, step))

    def _measure(self, pl_module: GANModule, step: int) -> dict:
        self._last_measured = step
        pl_module.logger_rows.due = True
        return self.measure(pl_module, pl_module.trainer.datamodule, tag=("step", step))
