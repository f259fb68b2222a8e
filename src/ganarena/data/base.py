"""The contract every data module follows, so networks, losses and metrics never special-case data.

The networks are built from `sample_shape` and `num_classes` before the Trainer exists, so both
are known right after `__init__`. Each training step runs n_critic discriminator steps, each on
its own real batch, so one loader batch holds all of them and the LightningModule splits it. How
many there are is the loss's business, not the data's: the GAN module sets `batches_per_step`
when it is set up (`GANModule.setup`), so the two can never disagree.
"""

from __future__ import annotations

import hashlib
import os
from abc import ABC, abstractmethod
from pathlib import Path

import torch
from lightning.pytorch import LightningDataModule
from torch.utils.data import DataLoader, Dataset

from ganarena.data.image_files import stack_samples
from ganarena.data.in_memory import InMemoryDataset, collate_prebatched
from ganarena.data.resumable import EpochBatches, EpochPermutation, ResumableLoader
from ganarena.errors import GanArenaError
from ganarena.options import require_non_negative_int, require_positive_int

REAL_SAMPLES_SEED = 0  # fixed so metrics and plots compare against the same real samples


def path_fingerprint(path: Path) -> str:
    """8 hex digits of the absolute path, so two folders both called `images` get distinct names."""
    return hashlib.sha1(str(path.resolve()).encode(), usedforsecurity=False).hexdigest()[:8]


class GANDataModule(LightningDataModule, ABC):
    """Real data as `(samples, labels)` batches: images scaled to [-1, 1], labels int64 or -1."""

    def __init__(self, batch_size: int = 64, num_workers: int = 0):
        super().__init__()
        self.batch_size = require_positive_int("data.batch_size", batch_size, 64)
        self.num_workers = require_non_negative_int("data.num_workers", num_workers, 0)
        #: The grey data a stacked data set is made of, whose classifier reads each channel.
        self.stacked_from: GANDataModule | None = None
        #: Real batches one training step consumes (its discriminator steps); set by the GAN
        #: module from its loss's n_critic before the loader is built.
        self.batches_per_step = 1
        self.train_dataset: Dataset | None = None
        #: The data metrics compare against and the domain classifier learns: the training
        #: data, unless a subclass trains on a subset of a larger set (digits' `fraction`).
        self.reference_dataset: Dataset | None = None
        #: Where the training batches come from: None, the host; a device, a copy of the
        #: in-memory training data kept there (set by the GAN module's `data_on_device`).
        self.serve_from: torch.device | None = None

    @property
    @abstractmethod
    def sample_shape(self) -> tuple[int, ...]:
        """Shape of one sample: (C, H, W) for images, (2,) for points."""

    @property
    @abstractmethod
    def num_classes(self) -> int | None:
        """Number of label values, or None when the data has no labels."""

    @property
    @abstractmethod
    def name(self) -> str:
        """Short stable identifier of the data (cache key for real-data statistics)."""

    @abstractmethod
    def build_train_dataset(self) -> Dataset:
        """Load or generate the training data; called once by `setup`."""

    @property
    def samples_per_step(self) -> int:
        """Real samples one training step consumes: one batch per discriminator step."""
        return self.batch_size * self.batches_per_step

    def setup(self, stage: str | None = None) -> None:
        if self.train_dataset is not None:
            return
        self.train_dataset = self.build_train_dataset()
        if self.reference_dataset is None:
            self.reference_dataset = self.train_dataset

    def train_dataloader(self) -> DataLoader:
        """Batches of `samples_per_step` in an order that resumes exactly (`ResumableLoader`);
        under DDP each rank reads its own share (the trainer's `use_distributed_sampler` is
        off: the sampler does it)."""
        self._set_up()
        dataset = self.train_dataset
        assert dataset is not None
        self._require_enough_samples(len(dataset))
        seed = int(os.environ.get("PL_GLOBAL_SEED", 0))
        if self.serve_from is not None:
            return self._device_resident_loader(dataset, seed, self.serve_from)
        in_memory = isinstance(dataset, InMemoryDataset)
        return ResumableLoader(
            dataset,
            sampler=EpochPermutation(len(dataset), self.samples_per_step, seed),
            position=self._position_in_epoch,
            batch_size=self.samples_per_step,
            drop_last=True,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            collate_fn=collate_prebatched if in_memory else stack_samples,
            # Pinning only pays off when a worker-side thread overlaps it with the training step.
            pin_memory=self.num_workers > 0 and torch.cuda.is_available(),
        )

    def _device_resident_loader(
        self, dataset: Dataset, seed: int, device: torch.device
    ) -> ResumableLoader:
        """The same batches in the same order, gathered from a copy of the data on `device`."""
        if not isinstance(dataset, InMemoryDataset):
            raise GanArenaError(
                f"module.data_on_device=true keeps in-memory data on the device, and {self.name} "
                f"is read from files ({type(dataset).__name__}): set module.data_on_device=false"
            )
        if self.num_workers > 0:
            raise GanArenaError(
                f"module.data_on_device=true gathers batches on the device, with no worker "
                f"processes: set data.num_workers=0 (it is {self.num_workers})"
            )
        on_device = InMemoryDataset(dataset.samples.to(device), dataset.labels.to(device))
        return ResumableLoader(
            on_device,
            sampler=EpochBatches(len(dataset), self.samples_per_step, seed, device),
            position=self._position_in_epoch,
            batch_size=None,  # the sampler yields whole batches of indices
            collate_fn=collate_prebatched,
        )

    def _position_in_epoch(self) -> tuple[int, int]:
        """(epoch, training steps taken in it), from the trainer's progress."""
        trainer = self.trainer
        module = trainer.lightning_module
        steps = getattr(module, "training_steps", trainer.global_step)
        epoch = trainer.current_epoch
        return epoch, steps - epoch * int(trainer.num_training_batches)

    @property
    def num_reference_samples(self) -> int:
        """How many real samples `real_samples` can give (the reference data's size)."""
        return len(self._ready_dataset())

    def real_samples(self, n: int) -> torch.Tensor:
        """The first `n` of a fixed permutation of the reference data (the training data
        unless the module keeps a larger set): the same real samples for every call and run."""
        dataset = self._ready_dataset()
        indices = self._real_indices(n)
        if isinstance(dataset, InMemoryDataset):
            return dataset.__getitems__(indices)[0]
        return torch.stack([dataset[index][0] for index in indices])

    def real_labels(self, n: int) -> torch.Tensor:
        """The labels of `real_samples(n)`, in the same order (-1 where a sample has none)."""
        dataset = self._ready_dataset()
        indices = self._real_indices(n)
        labels = getattr(dataset, "labels", None)
        if labels is not None:  # in-memory and image-file data: no image is decoded
            return torch.as_tensor(labels, dtype=torch.int64)[indices]
        return torch.as_tensor([int(dataset[index][1]) for index in indices], dtype=torch.int64)

    def _real_indices(self, n: int) -> list[int]:
        size = len(self._ready_dataset())
        if n > size:
            raise GanArenaError(
                f"asked for {n} real samples but {self.name} has only {size}:"
                f" request at most {size}"
            )
        generator = torch.Generator().manual_seed(REAL_SAMPLES_SEED)
        return torch.randperm(size, generator=generator)[:n].tolist()

    def _set_up(self) -> None:
        """Set up on demand, so the loader and `real_samples` also work outside a Trainer
        (one process)."""
        if self.train_dataset is None:
            self.prepare_data()
            self.setup("fit")

    def _ready_dataset(self) -> Dataset:
        """The reference data, set up on demand."""
        self._set_up()
        assert self.reference_dataset is not None
        return self.reference_dataset

    def _require_enough_samples(self, size: int) -> None:
        if size < self.samples_per_step:
            raise GanArenaError(
                f"data.batch_size={self.batch_size} x {self.batches_per_step} discriminator steps"
                f" (loss.n_critic) needs {self.samples_per_step} samples per training step but"
                f" {self.name} has only {size}: lower data.batch_size"
            )


def serve_training_steps(datamodule: object, n_critic: int, device: torch.device | None) -> None:
    """Have `datamodule` serve a training step's n_critic real batches as one loader batch,
    from `device` when one is given (`module.data_on_device`); only a `GANDataModule` can."""
    if isinstance(datamodule, GANDataModule):
        datamodule.batches_per_step = n_critic
        if device is not None:
            datamodule.serve_from = device
    elif device is not None:
        raise GanArenaError(
            "module.data_on_device=true needs a ganarena.data.GANDataModule, which can "
            "keep its data on the device: subclass it, or set module.data_on_device=false"
        )
    elif n_critic > 1:
        raise GanArenaError(
            f"loss.n_critic={n_critic} needs a GANDataModule, which serves {n_critic} real "
            "batches per training step: subclass ganarena.data.GANDataModule, or set "
            "loss.n_critic=1"
        )
