"""Images too many to hold in memory, decoded from files one at a time in DataLoader workers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from PIL import Image
from torch.utils.data import Dataset

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
PIL_MODE = {1: "L", 3: "RGB"}  # channels -> PIL mode; converting handles palettes and alpha


def is_image_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS


def stack_samples(items: list[tuple[torch.Tensor, int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Collate to a `(samples, labels)` tuple (the default collate returns a list)."""
    samples, labels = zip(*items, strict=True)
    return torch.stack(samples), torch.as_tensor(labels, dtype=torch.int64)


class ImageFilesDataset(Dataset):
    """Image files with their labels (-1 = unlabelled), turned into tensors by `transform`."""

    def __init__(
        self,
        paths: Sequence[Path],
        labels: Sequence[int],
        transform: Callable[[Image.Image], torch.Tensor],
        channels: int = 3,
    ):
        if len(paths) != len(labels):
            raise ValueError(f"{len(paths)} paths but {len(labels)} labels")
        self.paths = list(paths)
        self.labels = list(labels)
        self.transform = transform
        self.mode = PIL_MODE[channels]

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        with Image.open(self.paths[index]) as image:
            sample = self.transform(image.convert(self.mode))
        return sample, self.labels[index]
