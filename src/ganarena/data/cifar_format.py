"""Reader for CIFAR-10's python batches (pickled dicts of uint8 rows and label lists).

The batches are pickles from elsewhere: they are read by an unpickler that may build numpy
arrays and nothing else, so a file that would run code on loading is refused instead.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from ganarena.errors import GanArenaError

CIFAR_IMAGE_SHAPE = (3, 32, 32)  # each row is the red, green then blue plane, row-major
#: What a pickled numpy array names (protocol 2, and protocol 5's buffer form, under numpy 1's
#: and numpy 2's module names), and how protocol 2 writes bytes from Python 3 (`_codecs.encode`,
#: which only encodes a string); any other global is refused.
ARRAY_GLOBALS = {
    (module, name)
    for package in ("numpy.core", "numpy._core")
    for module, name in [
        (f"{package}.multiarray", "_reconstruct"),
        (f"{package}.multiarray", "scalar"),
        (f"{package}.numeric", "_frombuffer"),
    ]
} | {("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}


class ArraysOnly(pickle.Unpickler):
    """Builds dicts, lists, strings, numbers and numpy arrays; refuses every other global."""

    def find_class(self, module: str, name: str) -> object:
        if (module, name) in ARRAY_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"it names {module}.{name}, which is not an array")


def read_cifar_batches(paths: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    """(N, 3, 32, 32) uint8 images and (N,) int64 labels of the given batch files, in order."""
    images, labels = [], []
    for path in paths:
        try:
            with path.open("rb") as file:
                batch = ArraysOnly(file, encoding="latin1").load()
            images.append(np.asarray(batch["data"], dtype=np.uint8).reshape(-1, *CIFAR_IMAGE_SHAPE))
            labels.append(np.asarray(batch["labels"], dtype=np.int64))
        except (OSError, EOFError, pickle.UnpicklingError, KeyError, ValueError) as error:
            raise GanArenaError(
                f"{path} is not a CIFAR-10 batch ({type(error).__name__}: {error}):"
                " delete it and copy it again"
            ) from None
    return np.concatenate(images), np.concatenate(labels)
