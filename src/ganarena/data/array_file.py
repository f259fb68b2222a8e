"""uint8 images saved with numpy (`.npy`, or `.npz` with optional labels), held in memory.

Only the header is read in `__init__`: the networks need the shape before training, the data
itself is loaded once at setup.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import torch

from ganarena.data.base import GANDataModule, path_fingerprint
from ganarena.data.in_memory import InMemoryDataset
from ganarena.data.npy_files import array_header, load_array, npz_keys
from ganarena.data.transforms import resize_images
from ganarena.errors import GanArenaError
from ganarena.options import require_positive_int

IMAGE_KEYS = ("images", "x")
LABEL_KEYS = ("labels", "y")
CHANNEL_COUNTS = (1, 3)


def require_array_file(path: Path, key: str) -> Path:
    if not path.is_file():
        raise GanArenaError(f"{key} '{path}' does not exist: set {key}=/path/to/file.npy")
    if path.suffix not in (".npy", ".npz"):
        raise GanArenaError(f"{key} '{path}' is not a .npy or .npz file: save it with numpy.save")
    return path


def pick_key(path: Path, wanted: tuple[str, ...], others: tuple[str, ...]) -> str | None:
    """The first `wanted` key of an `.npz`, else its only array not among `others`."""
    try:
        keys = npz_keys(path)
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise GanArenaError(f"cannot read '{path}' ({error}): save it with numpy.savez") from None
    for key in wanted:
        if key in keys:
            return key
    candidates = [key for key in keys if key not in others]
    return candidates[0] if len(candidates) == 1 else None


def image_key(path: Path) -> str | None:
    if path.suffix == ".npy":
        return None
    key = pick_key(path, IMAGE_KEYS, LABEL_KEYS)
    if key is None:
        raise GanArenaError(
            f"'{path}' holds {npz_keys(path)}, none named images or x: save the images as 'images'"
        )
    return key


def check_image_header(path: Path, shape: tuple[int, ...], dtype: np.dtype) -> None:
    if dtype != np.uint8:
        raise GanArenaError(
            f"'{path}' holds {dtype} images, not uint8: save them as uint8 0..255,"
            " e.g. (x * 255).round().astype(np.uint8)"
        )
    channels_ok = len(shape) == 3 or (len(shape) == 4 and shape[3] in CHANNEL_COUNTS)
    if not channels_ok:
        raise GanArenaError(
            f"'{path}' holds shape {shape}, not (N, H, W) or (N, H, W, C) with C 1 or 3:"
            " save it channels-last, e.g. x.transpose(0, 2, 3, 1)"
        )
    if shape[0] == 0:
        raise GanArenaError(f"'{path}' holds no images: set data.path to a file with images")


def read_labels(path: Path, labels_path: Path | None, count: int) -> np.ndarray | None:
    """Labels from `labels_path`, else from the `.npz` (`labels` or `y`), else None."""
    if labels_path is not None:
        source = require_array_file(labels_path, "data.labels_path")
        key = pick_key(source, LABEL_KEYS, IMAGE_KEYS) if source.suffix == ".npz" else None
    elif path.suffix == ".npz":
        source, key = path, next((k for k in LABEL_KEYS if k in npz_keys(path)), None)
        if key is None:
            return None
    else:
        return None
    labels = load_array(source, key)
    column = labels.ndim == 2 and labels.shape[1] == 1  # (N, 1) is one label per image too
    return check_labels(labels.reshape(-1) if column else labels, source, count)


def check_labels(labels: np.ndarray, source: Path, count: int) -> np.ndarray:
    if not np.issubdtype(labels.dtype, np.integer):
        raise GanArenaError(
            f"labels in '{source}' are {labels.dtype}, not integers: save them as int64"
        )
    if labels.shape != (count,):
        raise GanArenaError(
            f"'{source}' has labels of shape {labels.shape} for {count} images:"
            " save one label per image"
        )
    if labels.min() < 0:
        raise GanArenaError(f"labels in '{source}' are negative: number the classes 0..K-1")
    return labels.astype(np.int64)


class ArrayDataModule(GANDataModule):
    """A numpy file of uint8 images (N, H, W) or (N, H, W, C), optionally resized once."""

    def __init__(
        self,
        path: str = "data/images.npy",
        labels_path: str | None = None,
        image_size: int | None = None,
        batch_size: int = 64,
        num_workers: int = 0,
    ):
        super().__init__(batch_size, num_workers)
        self.path = require_array_file(Path(path), "data.path")
        self.key = image_key(self.path)
        shape, dtype = array_header(self.path, self.key)
        check_image_header(self.path, shape, dtype)
        height, width = shape[1], shape[2]
        self.channels = shape[3] if len(shape) == 4 else 1
        self.size = shape[0]
        self.image_size = self._pick_image_size(image_size, height, width)
        labels_file = None if labels_path is None else Path(labels_path)
        self.labels = read_labels(self.path, labels_file, self.size)

    def _pick_image_size(self, image_size: int | None, height: int, width: int) -> int:
        if image_size is not None:
            return require_positive_int("data.image_size", image_size, 64)
        if height != width:
            raise GanArenaError(
                f"images in '{self.path}' are {height}x{width}, not square:"
                " set data.image_size=<n> to resize and centre-crop them to n x n"
            )
        return height

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return (self.channels, self.image_size, self.image_size)

    @property
    def num_classes(self) -> int | None:
        return None if self.labels is None else int(self.labels.max()) + 1

    @property
    def name(self) -> str:
        digest = path_fingerprint(self.path)
        return f"array-{self.path.stem}-{digest}-n{self.size}-c{self.channels}-{self.image_size}"

    def build_train_dataset(self) -> InMemoryDataset:
        images = torch.from_numpy(np.ascontiguousarray(load_array(self.path, self.key)))
        images = images.unsqueeze(1) if images.ndim == 3 else images.permute(0, 3, 1, 2)
        images = resize_images(images.contiguous(), self.image_size)
        labels = None if self.labels is None else torch.from_numpy(self.labels)
        return InMemoryDataset(images, labels)
