"""Check that data-parallel ranks still hold the same networks."""

from __future__ import annotations

import lightning.pytorch as pl
import torch
from lightning.pytorch.utilities import rank_zero_info

from ganarena.ranks import spread_across_ranks


def parameter_checksum(module: torch.nn.Module) -> torch.Tensor:
    """One float64 sum per parameter tensor, and per state tensor of the loss and the
    augmentation (BEGAN's k_t, LeCam's averages, ADA's p): cheap, and differs if any rank
    drifted."""
    tensors = list(module.parameters())
    for part in (getattr(module, "loss", None), getattr(module, "augment", None)):
        if isinstance(part, torch.nn.Module):
            tensors += [b for b in part.buffers() if b.is_floating_point()]
    return torch.stack([t.detach().double().sum() for t in tensors])


class ParameterSyncCheck(pl.Callback):
    """At the end of each epoch, compare parameter checksums across ranks and fail if they
    differ (their spread in one all-reduce: through shared memory on one CPU machine).

    Under data parallelism every rank must apply the same averaged update; a bug in the
    gradient averaging shows up here as diverging parameters. A no-op on one process.
    """

    def __init__(self, tolerance: float = 1e-6) -> None:
        self.tolerance = tolerance

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.world_size < 2:
            return
        checksums = parameter_checksum(pl_module)
        spread = spread_across_ranks(checksums).max().item()
        if spread > self.tolerance * max(1.0, checksums.abs().max().item()):
            raise RuntimeError(
                f"parameters differ across {trainer.world_size} ranks (max checksum gap "
                f"{spread:.3g}): gradients were not averaged"
            )
        rank_zero_info(f"parameters identical on {trainer.world_size} ranks")  # and loss state
