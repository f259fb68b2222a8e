"""Data sets that live in files torchvision can download: check the files, download only if missing.

Offline machines are common (clusters, CI), so a failed download becomes one line that says
which files to copy where, instead of a traceback from deep inside urllib.
"""

from __future__ import annotations

import logging
import socket
from abc import abstractmethod
from collections.abc import Callable
from pathlib import Path

from torch.utils.data import Dataset

from ganarena.data.base import GANDataModule
from ganarena.errors import GanArenaError
from ganarena.options import require_positive_int

log = logging.getLogger(__name__)

DOWNLOAD_SOCKET_TIMEOUT_S = 30.0  # a stalled mirror must not hang the run forever


def try_download(download: Callable[[], object]) -> bool:
    """Run a torchvision download; False (with the reason logged) when it fails."""
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_SOCKET_TIMEOUT_S)
    try:
        download()
    except (OSError, RuntimeError) as error:  # URLError is an OSError; gdown missing, bad md5
        log.warning("download failed: %s: %s", type(error).__name__, " ".join(str(error).split()))
        return False
    finally:
        socket.setdefaulttimeout(previous_timeout)
    return True


class DownloadableDataModule(GANDataModule):
    """A torchvision set under `root`; subclasses name its files and load them."""

    display_name: str  # as users know it, for messages: "MNIST"
    short_name: str  # for `name`: "mnist"
    native_size: int
    download_hint = "no network?"  # the likely cause of a failed download, for messages

    def __init__(
        self,
        root: str = "data",
        download: bool = True,
        train: bool = True,
        image_size: int | None = None,
        batch_size: int = 64,
        num_workers: int = 0,
    ):
        super().__init__(batch_size, num_workers)
        self.root = Path(root)
        self.download = bool(download)
        self.train = bool(train)
        size = self.native_size if image_size is None else image_size
        self.image_size = require_positive_int("data.image_size", size, self.native_size)

    @property
    def name(self) -> str:
        return f"{self.short_name}-{'train' if self.train else 'test'}-{self.image_size}"

    @property
    @abstractmethod
    def data_dir(self) -> Path:
        """Folder that holds the files, as named in messages."""

    @property
    @abstractmethod
    def what_to_copy(self) -> str:
        """The fix for missing files: "copy <files> into <data_dir>/", for messages."""

    @abstractmethod
    def files_present(self) -> bool:
        """Whether the files of the chosen split are there (checked before any download)."""

    @abstractmethod
    def download_files(self) -> None:
        """Download with torchvision into `root`; may raise network errors."""

    @abstractmethod
    def load_dataset(self) -> Dataset:
        """The split's dataset, from files known to be present."""

    def prepare_data(self) -> None:
        if self.files_present():
            return
        if not self.download:
            raise self.missing_error("and data.download is false", "or set data.download=true")
        if try_download(self.download_files) and self.files_present():
            return
        raise self.missing_error(
            f"and could not be downloaded ({self.download_hint})", "or run once with network"
        )

    def build_train_dataset(self) -> Dataset:
        if not self.files_present():
            fix = "or run once with network" if self.download else "or set data.download=true"
            raise self.missing_error("", fix)
        return self.load_dataset()

    def missing_error(self, reason: str, fix: str) -> GanArenaError:
        where = f"{self.display_name} is not in {self.data_dir}"
        reason = f" {reason}" if reason else ""
        return GanArenaError(f"{where}{reason}: {self.what_to_copy} {fix}")
