"""Stop a run cleanly when the losses stop being numbers."""

from __future__ import annotations

import lightning.pytorch as pl
import torch

from ganarena.callbacks.measurement import is_last_training_batch
from ganarena.callbacks.schedule import training_steps
from ganarena.errors import GanArenaError


class NonFiniteLossGuard(pl.Callback):
    """Every `every_n_steps` training steps, on the last one and at the end of every epoch,
    stop with one line if a loss is NaN or infinite.

    Checking every step would force a device-to-host sync each step; a NaN does not heal,
    so checking now and then catches it all the same. The last step is checked before the
    end-of-run measurements (this callback comes before them in the default list), and each
    epoch's end before Lightning's checkpoint callbacks, which always run last: a run shorter
    than `every_n_steps` is checked too, and its NaN weights never replace the checkpoints
    already written (`last.ckpt` from before the NaN).
    """

    def __init__(self, every_n_steps: int = 50) -> None:
        self.every_n_steps = every_n_steps

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs, batch, batch_idx: int
    ) -> None:
        due = training_steps(trainer, pl_module) % self.every_n_steps == 0
        if due or is_last_training_batch(trainer, batch_idx):  # before the last measurements
            self.check(trainer, pl_module)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.check(trainer, pl_module)

    def check(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        step = training_steps(trainer, pl_module)
        record = getattr(pl_module, "last_step", None)
        if record is None:
            return
        values = {"loss_d": record.discriminator_loss, "loss_g": record.generator_loss}
        if record.penalty is not None:
            values["penalty_d"] = record.penalty
        finite = torch.isfinite(torch.stack(list(values.values()))).tolist()
        bad = [name for name, ok in zip(values, finite, strict=True) if not ok]
        if bad:
            raise GanArenaError(
                f"train/{bad[0]} is {values[bad[0]].item()} at training step {step}: "
                "lower the learning rates (optimizer.generator.lr, optimizer.discriminator.lr) "
                "or use a more stable loss; checkpoints written so far are kept"
            )
