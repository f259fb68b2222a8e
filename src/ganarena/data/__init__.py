"""Data modules: real samples as `(samples, labels)` batches, shapes known before setup."""

from __future__ import annotations

from ganarena.data.array_file import ArrayDataModule
from ganarena.data.base import GANDataModule
from ganarena.data.digits import DigitsDataModule
from ganarena.data.image_folder import ImageFolderDataModule
from ganarena.data.in_memory import InMemoryDataset, collate_prebatched
from ganarena.data.mixtures import GridDataModule, RingDataModule, grid_means, ring_means
from ganarena.data.stacked import StackedDataModule
from ganarena.data.torchvision_sets import (
    CelebADataModule,
    CIFAR10DataModule,
    FashionMNISTDataModule,
    MNISTDataModule,
)

__all__ = [
    "ArrayDataModule",
    "CIFAR10DataModule",
    "CelebADataModule",
    "DigitsDataModule",
    "FashionMNISTDataModule",
    "GANDataModule",
    "GridDataModule",
    "ImageFolderDataModule",
    "InMemoryDataset",
    "MNISTDataModule",
    "RingDataModule",
    "StackedDataModule",
    "collate_prebatched",
    "grid_means",
    "ring_means",
]
