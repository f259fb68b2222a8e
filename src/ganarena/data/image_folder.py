"""Any folder of images: class sub-folders become labels, images directly inside are unlabelled."""

from __future__ import annotations

import os
from pathlib import Path

from ganarena.data.base import GANDataModule, path_fingerprint
from ganarena.data.image_files import IMAGE_EXTENSIONS, PIL_MODE, ImageFilesDataset, is_image_file
from ganarena.data.transforms import file_image_transform
from ganarena.errors import GanArenaError
from ganarena.options import require_positive_int


def images_below(folder: Path) -> list[Path]:
    """Every image under `folder`, following links (as torchvision's ImageFolder), sorted."""
    found = []
    for directory, subdirectories, names in os.walk(folder, followlinks=True):
        subdirectories[:] = [name for name in subdirectories if not name.startswith(".")]
        found += [Path(directory, name) for name in names if is_image_file(Path(directory, name))]
    return sorted(found)


def scan_image_folder(folder: Path) -> tuple[list[Path], list[int], list[str]]:
    """(files, labels, class names); sub-folders without images are not classes."""
    if not folder.exists():
        raise GanArenaError(f"data.path '{folder}' does not exist: set data.path=/path/to/images")
    if not folder.is_dir():
        raise GanArenaError(f"data.path '{folder}' is not a folder: set data.path=/path/to/images")
    subfolders = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    classes = [(sub.name, images_below(sub)) for sub in subfolders]
    classes = [(name, files) for name, files in classes if files]
    if classes:
        files = [file for _, class_files in classes for file in class_files]
        labels = [label for label, (_, class_files) in enumerate(classes) for _ in class_files]
        return files, labels, [name for name, _ in classes]
    files = sorted(path for path in folder.iterdir() if is_image_file(path))
    if not files:
        raise GanArenaError(
            f"no images ({', '.join(IMAGE_EXTENSIONS)}) in data.path '{folder}' or its"
            " sub-folders: set data.path to a folder of such images"
        )
    return files, [-1] * len(files), []


class ImageFolderDataModule(GANDataModule):
    """Images decoded in workers, resized on the shorter side and centre-cropped to image_size."""

    def __init__(
        self,
        path: str = "data/images",
        image_size: int = 64,
        channels: int = 3,
        batch_size: int = 64,
        num_workers: int = 2,
    ):
        super().__init__(batch_size, num_workers)
        self.image_size = require_positive_int("data.image_size", image_size, 64)
        if channels not in PIL_MODE:
            raise GanArenaError(
                f"data.channels must be 1 (grey) or 3 (RGB), got {channels!r}: set data.channels=3"
            )
        self.channels = channels
        self.path = Path(path)
        # Scanned now: num_classes is needed to build the networks, and a bad path fails early.
        self.files, self.labels, self.class_names = scan_image_folder(self.path)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return (self.channels, self.image_size, self.image_size)

    @property
    def num_classes(self) -> int | None:
        return len(self.class_names) or None

    @property
    def name(self) -> str:
        digest = path_fingerprint(self.path)
        size = f"c{self.channels}-{self.image_size}"
        return f"folder-{self.path.name}-{digest}-n{len(self.files)}-{size}"

    def build_train_dataset(self) -> ImageFilesDataset:
        transform = file_image_transform(self.image_size)
        return ImageFilesDataset(self.files, self.labels, transform, self.channels)
