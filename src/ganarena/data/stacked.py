"""Stacked digits and Stacked MNIST: three grey digits as the channels of one image.

The standard mode-collapse test for images (VEEGAN, PacGAN, R3GAN): with 10 digit classes
per channel, the data has 1,000 modes, one per triple of classes, and a generator's coverage
is counted by classifying each channel with the digits' own classifier. The label of a stacked
image is its triple, 100·a + 10·b + c. The triples are drawn once from the data's own
generator, so every run sees identical data.
"""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from ganarena.data.base import GANDataModule
from ganarena.data.in_memory import InMemoryDataset
from ganarena.errors import GanArenaError
from ganarena.options import require_int, require_positive_int

CHANNELS = 3
CLASSES_PER_CHANNEL = 10


class StackedDataModule(GANDataModule):
    """`num_samples` images whose channels are three digits of `base`, drawn uniformly."""

    #: The grey 10-class data the channels come from (what the mode metric classifies with).
    base: GANDataModule

    def __init__(
        self,
        base: GANDataModule,
        num_samples: int = 50_000,
        data_seed: int = 0,
        batch_size: int = 64,
        num_workers: int = 0,
    ) -> None:
        super().__init__(batch_size, num_workers)
        shape = tuple(base.sample_shape)
        if len(shape) != 3 or shape[0] != 1 or base.num_classes != CLASSES_PER_CHANNEL:
            raise GanArenaError(
                f"Stacked data stacks three grey 10-class images, but {base.name} has samples "
                f"of shape {shape} and {base.num_classes} classes: set data.base to the "
                "digits or MNIST data (data=stacked_digits or data=stacked_mnist)"
            )
        self.base = base
        self.stacked_from = base
        self.num_samples = require_positive_int("data.num_samples", num_samples, 50_000)
        self.data_seed = require_int("data.data_seed", data_seed, 0)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return (CHANNELS, *self.base.sample_shape[1:])

    @property
    def num_classes(self) -> int | None:
        return CLASSES_PER_CHANNEL**CHANNELS

    @property
    def name(self) -> str:
        return f"stacked-{self.base.name}-n{self.num_samples}-s{self.data_seed}"

    def prepare_data(self) -> None:
        self.base.prepare_data()

    def build_train_dataset(self) -> Dataset:
        self.base.setup("fit")
        images, labels = stored_samples(self.base.train_dataset)
        generator = torch.Generator().manual_seed(self.data_seed)
        picks = torch.randint(len(images), (self.num_samples, CHANNELS), generator=generator)
        stacked = images[picks].flatten(1, 2)  # (N, 3, H, W): one grey image per channel
        triples = labels[picks]
        codes = triples[:, 0] * 100 + triples[:, 1] * 10 + triples[:, 2]
        return InMemoryDataset(stacked.contiguous(), codes)


def stored_samples(dataset: Dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """The base data as it is held (uint8 or [-1, 1] floats) with its labels."""
    if not isinstance(dataset, InMemoryDataset):
        raise GanArenaError(
            "Stacked data needs its base in memory (digits or MNIST): set data.base to one"
        )
    return dataset.samples, dataset.labels
