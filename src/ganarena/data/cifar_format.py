"""Reader for CIFAR-10's python batches (pickled dicts of uint8 rows and label lists)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from ganarena.errors import GanArenaError

CIFAR_IMAGE_SHAPE = (3, 32, 32)  # each row is the red, green then blue plane, row-major


def read_cifar_batches(paths: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    """(N, 3, 32, 32) uint8 images and (N,) int64 labels of the given batch files, in order."""
    images, labels = [], []
    for path in paths:
        try:
            with path.open("rb") as file:
                batch = pickle.load(file, encoding="latin1")
            images.append(np.asarray(batch["data"], dtype=np.uint8).reshape(-1, *CIFAR_IMAGE_SHAPE))
            labels.append(np.asarray(batch["labels"], dtype=np.int64))
        except (OSError, EOFError, pickle.UnpicklingError, KeyError, ValueError) as error:
            raise GanArenaError(
                f"{path} is not a CIFAR-10 batch ({type(error).__name__}):"
                " delete it and copy it again"
            ) from None
    return np.concatenate(images), np.concatenate(labels)
