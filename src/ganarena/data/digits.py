"""scikit-learn's bundled 8x8 digits: a real image set that works offline and trains in seconds."""

from __future__ import annotations

import torch
from sklearn.datasets import load_digits

from ganarena.data.base import GANDataModule
from ganarena.data.in_memory import InMemoryDataset
from ganarena.data.transforms import resize_images
from ganarena.errors import GanArenaError
from ganarena.options import require_positive_int

SUBSET_SEED = 0  # the digits a `fraction` keeps: the same for every run

DIGITS_MAX_VALUE = 16.0  # load_digits pixels are counts 0..16 of a 4x4 block
DIGITS_NATIVE_SIZE = 8


class DigitsDataModule(GANDataModule):
    """1,797 grey 8x8 digits in 10 classes, optionally resized once to `image_size`.

    `fraction` < 1 trains on that share of them (a fixed random subset, the same per class
    share), the small-data setting of DiffAugment and ADA; the metrics still compare with
    all 1,797 digits, and the domain classifier learns from all of them, as those papers
    measure FID against the full training set.
    """

    def __init__(
        self,
        image_size: int = DIGITS_NATIVE_SIZE,
        batch_size: int = 64,
        num_workers: int = 0,
        fraction: float = 1.0,
    ):
        super().__init__(batch_size, num_workers)
        self.image_size = require_positive_int("data.image_size", image_size, DIGITS_NATIVE_SIZE)
        if not 0 < fraction <= 1:
            raise GanArenaError(
                f"data.fraction must lie in (0, 1], got {fraction}: e.g. data.fraction=0.1 "
                "to train on a tenth of the digits"
            )
        self.fraction = float(fraction)

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
        full = InMemoryDataset(images.contiguous(), torch.from_numpy(digits.target))
        self.reference_dataset = full
        if self.fraction == 1:
            return full
        kept = stratified_subset(full.labels, self.fraction)
        return InMemoryDataset(full.samples[kept].contiguous(), full.labels[kept])


def stratified_subset(labels: torch.Tensor, fraction: float) -> torch.Tensor:
    """Indices of `fraction` of the samples of each class (at least one), drawn once."""
    generator = torch.Generator().manual_seed(SUBSET_SEED)
    kept = []
    for label in labels.unique():
        members = (labels == label).nonzero().squeeze(1)
        order = members[torch.randperm(len(members), generator=generator)]
        kept.append(order[: max(1, round(fraction * len(members)))])
    return torch.cat(kept).sort().values
