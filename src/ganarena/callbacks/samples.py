"""Writes what the generator makes, from one fixed noise batch, on a schedule."""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import torch
from lightning.pytorch.loggers import TensorBoardLogger, WandbLogger
from PIL import Image

from ganarena.callbacks.schedule import training_steps
from ganarena.visualize import save_image_grid, save_scatter


class SampleWriter(pl.Callback):
    """Every `every_n_steps` training steps and at the end of fit, write a PNG of samples.

    Images become a grid; 2-D points become a scatter over the real data. The noise is fixed
    (seeded) so that successive pictures show the same latent points moving. PNGs go to
    `dirpath` and to the W&B and TensorBoard loggers when they are in use.
    """

    def __init__(
        self,
        dirpath: str,
        every_n_steps: int = 500,
        num_samples: int = 64,
        num_points: int = 2_500,
        seed: int = 1234,
    ) -> None:
        self.dirpath = Path(dirpath)
        self.every_n_steps = every_n_steps
        self.num_samples = num_samples
        self.num_points = num_points
        self.seed = seed
        self._last_written = -1

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args) -> None:
        step = training_steps(trainer, pl_module)
        if self.every_n_steps > 0 and step % self.every_n_steps == 0:
            self.write(trainer, pl_module, step)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.write(trainer, pl_module, training_steps(trainer, pl_module))

    def write(self, trainer: pl.Trainer, pl_module: pl.LightningModule, step: int) -> None:
        if not trainer.is_global_zero or step == self._last_written:
            return
        self._last_written = step
        shape = trainer.datamodule.sample_shape
        count = self.num_samples if len(shape) == 3 else self.num_points
        noise = torch.randn(
            count, pl_module.latent_dim, generator=torch.Generator().manual_seed(self.seed)
        )
        was_training = pl_module.generator.training
        pl_module.generator.eval()
        fake = pl_module.generate(noise)
        pl_module.generator.train(was_training)
        path = self.dirpath / f"step_{step:07d}.png"
        if len(shape) == 3:
            save_image_grid(fake, path, nrow=int(count**0.5))
        else:
            datamodule = trainer.datamodule
            real = datamodule.real_samples(min(count, len(datamodule.train_dataset)))
            means = getattr(datamodule, "means", None)
            save_scatter(fake, real, path, means=means, title=f"step {step}")
        self._send_to_loggers(trainer, path, step)

    @staticmethod
    def _send_to_loggers(trainer: pl.Trainer, path: Path, step: int) -> None:
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                logger.log_image(key="samples", images=[str(path)], step=trainer.global_step)
            elif isinstance(logger, TensorBoardLogger):
                image = np.asarray(Image.open(path).convert("RGB"))
                logger.experiment.add_image("samples", image, step, dataformats="HWC")
