"""`epoch_<n>.ckpt`: Lightning's ModelCheckpoint, less its work where it saves nothing."""

from __future__ import annotations

import math
from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.callbacks import ModelCheckpoint

from ganarena.compat import optimizer_step_progress, train_step_interval


class GANModelCheckpoint(ModelCheckpoint):
    """Lightning's `ModelCheckpoint`, with the same arguments and files.

    At every epoch end Lightning's copies all of `trainer.callback_metrics` (a deep copy of a
    dozen tensors, about a millisecond) before it looks at whether `every_n_epochs` asks for a
    save. gan-arena saves on training steps (`every_n_train_steps`), and on small data an epoch
    is a few dozen of them: here an epoch end does nothing unless `every_n_epochs` or
    `save_last` is set. Between its saves, a batch end reads Lightning's optimizer-step count
    directly (`trainer.global_step` is five properties deep).
    """

    #: Lightning's optimizer-step count during a fit under manual optimization, else None.
    _optimizer_steps = None

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        super().on_train_start(trainer, pl_module)
        if not pl_module.automatic_optimization:
            self._optimizer_steps = optimizer_step_progress(trainer)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        super().on_train_end(trainer, pl_module)
        self._optimizer_steps = None  # the trainer's: the callback outlives it

    def batch_end_interval(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> int:
        """Its batch ends under manual optimization: where the optimizer-step count (n_critic
        + 1 a training step) is a multiple of `every_n_train_steps`, i.e. every
        every / gcd(every, n_critic + 1) training steps (for the lean loop:
        `ganarena.compat.LeanBatchLoop`)."""
        loss = getattr(pl_module, "loss", None)
        if self._optimizer_steps is None or loss is None:
            return 1
        every = train_step_interval(self)
        return every // math.gcd(every, loss.n_critic + 1) if every > 0 else 0

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        every, steps = train_step_interval(self), self._optimizer_steps
        if steps is not None and (every < 1 or steps.total.completed % every):
            return  # what Lightning's own first check decides under manual optimization
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.every_n_epochs or self.save_last:
            super().on_train_epoch_end(trainer, pl_module)
