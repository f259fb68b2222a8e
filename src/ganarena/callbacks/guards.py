"""Stop a run cleanly when the losses stop being numbers."""

from __future__ import annotations

import lightning.pytorch as pl
import torch

from ganarena.gan_module import GANModule
from ganarena.run_record import TrainingDiverged


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
        self, trainer: pl.Trainer, pl_module: GANModule, outputs, batch, batch_idx: int
    ) -> None:
        step = pl_module.training_steps
        if step % self.every_n_steps == 0 or pl_module.is_last_step:
            self.check(pl_module)  # the last step: before the end-of-fit measurements

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: GANModule) -> None:
        self.check(pl_module)

    def check(self, pl_module: GANModule) -> None:
        step = pl_module.training_steps
        record = pl_module.last_training_step
        if record is None:
            return
        values = {"loss_d": record.discriminator_loss, "loss_g": record.generator_loss}
        if record.penalty is not None:
            values["penalty_d"] = record.penalty
        # Their sum is not finite when one is not: one read off the device, and few kernels.
        # (A sum that overflows while each is finite is looked at one by one, and passes.)
        if torch.isfinite(sum(values.values())).item():
            return
        bad = [name for name, value in values.items() if not torch.isfinite(value).item()]
        if bad:
            raise TrainingDiverged(
                f"train/{bad[0]} is {values[bad[0]].item()} at training step {step}: "
                "lower the learning rates (optimizer.generator.lr, optimizer.discriminator.lr) "
                "or use a more stable loss; checkpoints written so far are kept"
            )
