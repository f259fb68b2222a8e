"""scikit-learn's bundled 8x8 digits: a real image set that works offline and trains in seconds."""

from __future__ import annotations

import torch
from sklearn.datasets import load_digits

from ganarena.data.base import GANDataModule
from ganarena.data.in_memory import InMemoryDataset
from ganarena.data.transforms import resize_images
from ganarena.options import require_positive_int

DIGITS_MAX_VALUE = 16.0  # load_digits pixels are counts 0..16 of a 4x4 block
DIGITS_NATIVE_SIZE = 8


class DigitsDataModule(GANDataModule):
    """1,797 grey 8x8 digits in 10 classes, optionally resized once to `image_size`."""

    def __init__(
        self,
        image_size: int = DIGITS_NATIVE_SIZE,
        batch_size: int = 64,
        num_workers: int = 0,
    ):
        super().__init__(batch_size, num_workers)
        self.image_size = require_positive_int("data.image_size", image_size, DIGITS_NATIVE_SIZE)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return (1, self.image_size, self.image_size)

    @property
    def num_classes(self) -> int | None:
        return 10

    @property
    def name(self) -> str:
        return f"digits-{self.image_size}"

    def build_train_dataset(self) -> InMemoryDataset:
        digits = load_digits()
        images = torch.from_numpy(digits.images).float().unsqueeze(1)
        images = images / (DIGITS_MAX_VALUE / 2) - 1.0
        images = resize_images(images, self.image_size).clamp_(-1.0, 1.0)
        return InMemoryDataset(images.contiguous(), torch.from_numpy(digits.target))
