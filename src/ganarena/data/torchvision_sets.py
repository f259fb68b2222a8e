"""MNIST, Fashion-MNIST, CIFAR-10 (whole split in memory) and CelebA (streamed from files)."""

from __future__ import annotations

from pathlib import Path

import torch
import torchvision

from ganarena.data.cifar_format import read_cifar_batches
from ganarena.data.downloadable import DownloadableDataModule
from ganarena.data.idx_format import read_idx
from ganarena.data.image_files import ImageFilesDataset
from ganarena.data.in_memory import InMemoryDataset
from ganarena.data.transforms import file_image_transform, resize_images
from ganarena.errors import GanArenaError

CELEBA_FACE_CROP = 178  # the DCGAN recipe: the aligned 178x218 faces, centre-cropped square
CELEBA_TRAIN_PARTITION, CELEBA_TEST_PARTITION = 0, 2  # list_eval_partition: 0 train, 2 test


class MNISTDataModule(DownloadableDataModule):
    """MNIST handwritten digits: 60,000 train / 10,000 test grey 28x28 images, 10 classes."""

    display_name, short_name, native_size = "MNIST", "mnist", 28
    torchvision_class: type[torchvision.datasets.MNIST] = torchvision.datasets.MNIST

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return (1, self.image_size, self.image_size)

    @property
    def num_classes(self) -> int | None:
        return 10

    @property
    def data_dir(self) -> Path:
        return self.root / self.torchvision_class.__name__ / "raw"

    @property
    def split_files(self) -> tuple[str, str]:
        prefix = "train" if self.train else "t10k"
        return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"

    @property
    def what_to_copy(self) -> str:
        images, labels = self.split_files
        return f"copy {images}.gz and {labels}.gz into {self.data_dir}/"

    def files_present(self) -> bool:
        return all(self._find(name) is not None for name in self.split_files)

    def download_files(self) -> None:
        self.torchvision_class(self.root, train=self.train, download=True)

    def load_dataset(self) -> InMemoryDataset:
        images_file, labels_file = (self._find(name) for name in self.split_files)
        assert images_file is not None and labels_file is not None
        images, labels = read_idx(images_file), read_idx(labels_file)
        if images.ndim != 3 or labels.shape != images.shape[:1]:
            raise GanArenaError(
                f"{images_file} ({images.shape}) and {labels_file} ({labels.shape}) do not match:"
                f" copy the original files into {self.data_dir}/"
            )
        images = torch.from_numpy(images.copy()).unsqueeze(1)
        labels = torch.from_numpy(labels.astype("int64"))
        return InMemoryDataset(resize_images(images, self.image_size), labels)

    def _find(self, name: str) -> Path | None:
        """The extracted file (torchvision keeps both) or the `.gz` a user copied in."""
        for candidate in (self.data_dir / name, self.data_dir / f"{name}.gz"):
            if candidate.is_file():
                return candidate
        return None


class FashionMNISTDataModule(MNISTDataModule):
    """Fashion-MNIST: MNIST's format and sizes with 10 classes of clothing, a harder drop-in."""

    display_name, short_name = "Fashion-MNIST", "fashion_mnist"
    torchvision_class = torchvision.datasets.FashionMNIST


class CIFAR10DataModule(DownloadableDataModule):
    """CIFAR-10: 50,000 train / 10,000 test colour 32x32 images, 10 classes."""

    display_name, short_name, native_size = "CIFAR-10", "cifar10", 32

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return (3, self.image_size, self.image_size)

    @property
    def num_classes(self) -> int | None:
        return 10

    @property
    def data_dir(self) -> Path:
        return self.root / torchvision.datasets.CIFAR10.base_folder

    @property
    def split_files(self) -> list[Path]:
        names = [f"data_batch_{i}" for i in range(1, 6)] if self.train else ["test_batch"]
        return [self.data_dir / name for name in names]

    @property
    def what_to_copy(self) -> str:
        return f"extract cifar-10-python.tar.gz (data_batch_1..5, test_batch) into {self.root}/"

    def files_present(self) -> bool:
        return all(path.is_file() for path in self.split_files)

    def download_files(self) -> None:
        torchvision.datasets.CIFAR10(self.root, train=self.train, download=True)

    def load_dataset(self) -> InMemoryDataset:
        images, labels = read_cifar_batches(self.split_files)
        images = resize_images(torch.from_numpy(images), self.image_size)
        return InMemoryDataset(images, torch.from_numpy(labels))


class CelebADataModule(DownloadableDataModule):
    """CelebA aligned faces (~163k train images), streamed from JPEGs; unlabelled."""

    display_name, short_name, native_size = "CelebA", "celeba", 64
    download_hint = "no network, gdown not installed or Google Drive quota?"

    def __init__(
        self,
        root: str = "data",
        download: bool = True,
        train: bool = True,
        image_size: int = 64,
        batch_size: int = 64,
        num_workers: int = 2,
    ):
        super().__init__(root, download, train, image_size, batch_size, num_workers)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return (3, self.image_size, self.image_size)

    @property
    def num_classes(self) -> int | None:
        return None

    @property
    def data_dir(self) -> Path:
        return self.root / torchvision.datasets.CelebA.base_folder

    @property
    def images_dir(self) -> Path:
        return self.data_dir / "img_align_celeba"

    @property
    def what_to_copy(self) -> str:
        return (
            f"put the aligned JPEGs in {self.images_dir}/ and list_eval_partition.txt"
            f" in {self.data_dir}/"
        )

    def files_present(self) -> bool:
        return self.images_dir.is_dir() and self._partition_file() is not None

    def download_files(self) -> None:
        torchvision.datasets.CelebA(self.root, split="all", target_type=[], download=True)

    def load_dataset(self) -> ImageFilesDataset:
        paths = [self.images_dir / file_name for file_name in self._split_file_names()]
        transform = file_image_transform(self.image_size, center_crop=CELEBA_FACE_CROP)
        return ImageFilesDataset(paths, [-1] * len(paths), transform, channels=3)

    def _partition_file(self) -> Path | None:
        """torchvision's .txt, or the .csv (with a header) of the Kaggle copy."""
        for suffix in (".txt", ".csv"):
            path = self.data_dir / f"list_eval_partition{suffix}"
            if path.is_file():
                return path
        return None

    def _split_file_names(self) -> list[str]:
        partition_file = self._partition_file()
        assert partition_file is not None
        wanted = str(CELEBA_TRAIN_PARTITION if self.train else CELEBA_TEST_PARTITION)
        rows = (line.replace(",", " ").split() for line in partition_file.read_text().splitlines())
        return [row[0] for row in rows if len(row) == 2 and row[1] == wanted]
