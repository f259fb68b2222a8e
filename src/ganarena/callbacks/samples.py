"""Writes what the generator makes, from one fixed noise batch, on a schedule."""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import torch
from lightning.pytorch.loggers import TensorBoardLogger, WandbLogger
from PIL import Image

from ganarena.gan_module import GANModule
from ganarena.visualize import save_image_grid, save_scatter

#: A conditional grid shows at most this many classes, one row each.
MAX_CLASS_ROWS = 20


class SampleWriter(pl.Callback):
    """Every `every_n_steps` training steps and at the end of fit, write a PNG of samples.

    Images become a grid (for a conditional GAN, one row per class, each row over the same
    noise); 2-D points become a scatter over the real data. The noise is fixed
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

    def state_dict(self) -> dict[str, int]:
        return {"last_written": self._last_written}

    def load_state_dict(self, state_dict: dict[str, int]) -> None:
        self._last_written = int(state_dict.get("last_written", -1))

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: GANModule, *args) -> None:
        step = pl_module.training_steps
        if self.every_n_steps > 0 and step % self.every_n_steps == 0:
            self.write(trainer, pl_module, step)

    def on_train_end(self, trainer: pl.Trainer, pl_module: GANModule) -> None:
        self.write(trainer, pl_module, pl_module.training_steps)

    def write(self, trainer: pl.Trainer, pl_module: GANModule, step: int) -> None:
        if not trainer.is_global_zero or step == self._last_written:
            return
        self._last_written = step
        images = len(trainer.datamodule.sample_shape) == 3
        noise, labels, columns = self._inputs(pl_module, images)
        fake = pl_module.generate(noise, labels)
        path = self.dirpath / f"step_{step:07d}.png"
        if images:
            save_image_grid(fake, path, nrow=columns)
        else:
            datamodule = trainer.datamodule
            real = datamodule.real_samples(min(len(noise), datamodule.num_reference_samples))
            means = getattr(datamodule, "means", None)
            save_scatter(fake, real, path, means=means, title=f"step {step}")
        self._send_to_loggers(trainer, path, step)

    def _inputs(
        self, pl_module: GANModule, images: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None, int]:
        """Fixed noise; for a conditional image GAN, one row per class over the same noise."""
        rng = torch.Generator().manual_seed(self.seed)
        num_classes = pl_module.num_classes
        if images and num_classes:
            rows = min(num_classes, MAX_CLASS_ROWS)
            columns = max(1, self.num_samples // rows)  # num_samples split over the rows
            noise = torch.randn(columns, pl_module.latent_dim, generator=rng).repeat(rows, 1)
            labels = torch.arange(rows).repeat_interleave(columns)
            return noise, labels, columns
        count = self.num_samples if images else self.num_points
        noise = torch.randn(count, pl_module.latent_dim, generator=rng)
        labels = None
        if num_classes:  # conditional points: classes in turn
            labels = torch.arange(count) % num_classes
        return noise, labels, int(count**0.5)

    @staticmethod
    def _send_to_loggers(trainer: pl.Trainer, path: Path, step: int) -> None:
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                logger.log_image(key="samples", images=[str(path)], step=step)
            elif isinstance(logger, TensorBoardLogger):
                image = np.asarray(Image.open(path).convert("RGB"))
                logger.experiment.add_image("samples", image, step, dataformats="HWC")
