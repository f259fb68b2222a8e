"""The step count that callbacks schedule on: training steps, not optimizer steps."""

from __future__ import annotations

import lightning.pytorch as pl


def training_steps(trainer: pl.Trainer, pl_module: pl.LightningModule) -> int:
    """Generator updates so far.

    `trainer.global_step` counts optimizer steps, n_critic + 1 per training step under
    manual optimization, so it is divided back; it is restored on resume, so this is too.
    """
    return trainer.global_step // (pl_module.loss.n_critic + 1)
