"""2-D Gaussian mixtures, the standard mode-collapse benchmarks (ring of 8, grid of 25).

The points are the data, so unlike images they are NOT rescaled to [-1, 1]: the means and the
standard deviation are the ones the mode-coverage metric and the scatter plot measure against.
They are drawn once from their own generator, so every run sees identical data.
"""

from __future__ import annotations

import math

import torch

from ganarena.data.base import GANDataModule
from ganarena.data.in_memory import InMemoryDataset
from ganarena.options import require_int, require_positive, require_positive_int


def ring_means(num_modes: int, radius: float) -> torch.Tensor:
    """(K, 2) means at angles 2πk/K, k = 0..K-1 (linspace(0, 2π, K) would repeat the first)."""
    angles = torch.arange(num_modes, dtype=torch.float64) * (2 * math.pi / num_modes)
    means = radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
    return means.float()


def grid_means(grid_size: int, spacing: float) -> torch.Tensor:
    """(K², 2) means on a square grid centred on the origin: {-4, -2, 0, 2, 4}² for 5 and 2."""
    coordinates = (torch.arange(grid_size, dtype=torch.float64) - (grid_size - 1) / 2) * spacing
    xs, ys = torch.meshgrid(coordinates, coordinates, indexing="ij")
    return torch.stack([xs.flatten(), ys.flatten()], dim=1).float()


class GaussianMixtureDataModule(GANDataModule):
    """Equal-weight isotropic mixture; a sample's label is the component it was drawn from."""

    def __init__(
        self,
        means: torch.Tensor,
        std: float,
        num_samples: int,
        data_seed: int,
        batch_size: int,
        num_workers: int,
    ):
        super().__init__(batch_size, num_workers)
        self.means = means
        self.std = require_positive("data.std", std, 0.01)
        self.num_samples = require_positive_int("data.num_samples", num_samples, 100000)
        self.data_seed = require_int("data.data_seed", data_seed, 0)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return (2,)

    @property
    def num_classes(self) -> int | None:
        return len(self.means)

    def build_train_dataset(self) -> InMemoryDataset:
        generator = torch.Generator().manual_seed(self.data_seed)
        labels = torch.randint(len(self.means), (self.num_samples,), generator=generator)
        noise = torch.randn(self.num_samples, 2, generator=generator)
        return InMemoryDataset(self.means[labels] + self.std * noise, labels)


class RingDataModule(GaussianMixtureDataModule):
    """`num_modes` Gaussians evenly spaced on a circle of `radius`."""

    def __init__(
        self,
        num_modes: int = 8,
        radius: float = 1.0,
        std: float = 0.01,
        num_samples: int = 100_000,
        data_seed: int = 0,
        batch_size: int = 64,
        num_workers: int = 0,
    ):
        self.num_modes = require_positive_int("data.num_modes", num_modes, 8)
        self.radius = require_positive("data.radius", radius, 1.0)
        means = ring_means(self.num_modes, self.radius)
        super().__init__(means, std, num_samples, data_seed, batch_size, num_workers)

    @property
    def name(self) -> str:
        return f"ring-{self.num_modes}-r{self.radius}-s{self.std}"


class GridDataModule(GaussianMixtureDataModule):
    """`grid_size`² Gaussians on a square grid `spacing` apart, centred on the origin."""

    def __init__(
        self,
        grid_size: int = 5,
        spacing: float = 2.0,
        std: float = 0.05,
        num_samples: int = 100_000,
        data_seed: int = 0,
        batch_size: int = 64,
        num_workers: int = 0,
    ):
        self.grid_size = require_positive_int("data.grid_size", grid_size, 5)
        self.spacing = require_positive("data.spacing", spacing, 2.0)
        means = grid_means(self.grid_size, self.spacing)
        super().__init__(means, std, num_samples, data_seed, batch_size, num_workers)

    @property
    def name(self) -> str:
        return f"grid-{self.grid_size}-sp{self.spacing}-s{self.std}"
