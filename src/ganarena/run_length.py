"""How long a fit runs, in training steps, read from the trainer's public limits.

`trainer.max_steps` counts optimizer steps, n_critic + 1 per training step (`train_steps`
sets it); `trainer.max_epochs` counts passes over the data, `trainer.num_training_batches`
training steps each (a `GANDataModule` serves the n_critic real batches of a step as one).
"""

from __future__ import annotations

import lightning.pytorch as pl


def step_limit(trainer: pl.Trainer, n_critic: int) -> float:
    """The training step at which `trainer.max_steps` is reached (inf: no limit)."""
    max_steps = trainer.max_steps
    if max_steps is None or max_steps < 0:
        return float("inf")
    return -(-max_steps // (n_critic + 1))  # the step whose last update reaches it


def planned_training_steps(trainer: pl.Trainer, n_critic: int) -> int | None:
    """The fit's length in training steps from its limits; None when it has none."""
    limits = [step_limit(trainer, n_critic)]
    batches, epochs = trainer.num_training_batches, trainer.max_epochs
    if epochs is not None and epochs >= 0 and batches != float("inf"):
        limits.append(max(epochs, 1) * batches)
    length = min(limits)
    return None if length == float("inf") else int(length)


def ends_fit(trainer: pl.Trainer, n_critic: int, step: int, batch_idx: int) -> bool:
    """Whether training step `step` (batch `batch_idx` of this epoch) is the fit's last:
    it reaches `max_steps`, or it is the last batch of the last epoch."""
    if step >= step_limit(trainer, n_critic):
        return True
    epochs = trainer.max_epochs
    last_epoch = epochs is not None and 0 <= epochs <= trainer.current_epoch + 1
    return last_epoch and batch_idx + 1 >= trainer.num_training_batches
