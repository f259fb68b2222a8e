"""Train the domain classifier on any labelled image data module (`src/train_classifier.py`)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, Subset

from ganarena.data.base import GANDataModule
from ganarena.data.in_memory import InMemoryDataset, collate_prebatched
from ganarena.errors import GanArenaError
from ganarena.features.classifier import DomainClassifierNet, save_classifier_checkpoint

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClassifierTraining:
    """Options of a classifier run; the defaults reach > 95% on digits in seconds on a CPU."""

    epochs: int = 25
    batch_size: int = 32
    lr: float = 3e-3
    weight_decay: float = 1e-4
    test_fraction: float = 0.2
    width: int = 32
    feature_dim: int = 128
    seed: int = 0


def check_labelled_images(datamodule: GANDataModule) -> None:
    if len(datamodule.sample_shape) != 3:
        raise GanArenaError(
            f"the domain classifier reads images but {datamodule.name} has samples of shape "
            f"{datamodule.sample_shape}: choose an image data set (data=digits, data=mnist, ...)"
        )
    if not datamodule.num_classes:
        raise GanArenaError(
            f"{datamodule.name} has no labels: the domain classifier needs labelled data "
            "(use Inception features: callbacks.metric_features.name=inception)"
        )


def split(dataset: Dataset, test_fraction: float, seed: int) -> tuple[Subset, Subset]:
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed)).tolist()
    test_size = max(1, int(len(dataset) * test_fraction))
    return Subset(dataset, order[test_size:]), Subset(dataset, order[:test_size])


def loader(dataset: Subset, batch_size: int, shuffle: bool, seed: int) -> DataLoader:
    """In-memory data hands over whole batches (`__getitems__`), as in the GAN's own loader."""
    prebatched = isinstance(dataset.dataset, InMemoryDataset)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        generator=torch.Generator().manual_seed(seed),
        collate_fn=collate_prebatched if prebatched else None,
    )


@torch.no_grad()
def accuracy(network: DomainClassifierNet, batches: DataLoader, device: torch.device) -> float:
    network.eval()
    correct = total = 0
    for images, labels in batches:
        _, logits = network(images.to(device))
        correct += (logits.argmax(1).cpu() == labels).sum().item()
        total += len(labels)
    return correct / max(total, 1)


def fit_epoch(
    network: DomainClassifierNet, batches: DataLoader, optimizer: torch.optim.Optimizer, device
) -> None:
    network.train()
    for images, labels in batches:
        images, labels = images.to(device), labels.to(device)
        images = images + 0.05 * torch.randn_like(images)  # mild noise: GAN samples are noisy
        loss = F.cross_entropy(network(images)[1], labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


@contextmanager
def single_cpu_thread(device: torch.device) -> Iterator[None]:
    """Tiny convolutions on a CPU: thread synchronisation costs more than it saves (on a
    shared 2-core machine, two threads trained 20-40x slower than one)."""
    threads = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def train_domain_classifier(
    datamodule: GANDataModule,
    output_path: Path,
    options: ClassifierTraining = ClassifierTraining(),
    device: torch.device | str = "cpu",
) -> tuple[Path, float]:
    """Train, report held-out accuracy, save a checkpoint that records data name, shape, classes.

    Runs under a forked RNG, so training it on the spot does not change a GAN run's noise.
    """
    check_labelled_images(datamodule)
    datamodule.prepare_data()
    datamodule.setup("fit")
    train_set, test_set = split(datamodule.reference_dataset, options.test_fraction, options.seed)
    device = torch.device(device)
    with torch.random.fork_rng(devices=[]), single_cpu_thread(device):
        torch.manual_seed(options.seed)
        net_options = {"width": options.width, "feature_dim": options.feature_dim}
        network = DomainClassifierNet(
            datamodule.sample_shape, datamodule.num_classes, **net_options
        ).to(device)
        optimizer = torch.optim.AdamW(
            network.parameters(), lr=options.lr, weight_decay=options.weight_decay
        )
        batches = loader(train_set, options.batch_size, True, options.seed)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, options.epochs)
        for _ in range(options.epochs):
            fit_epoch(network, batches, optimizer, device)
            schedule.step()
    test_accuracy = accuracy(network, loader(test_set, 512, False, 0), device)
    save_classifier_checkpoint(
        output_path,
        network.cpu(),
        datamodule.name,
        datamodule.sample_shape,
        net_options,
        test_accuracy,
    )
    log.info(
        "domain classifier for %s: %.1f%% held-out accuracy, saved to %s",
        datamodule.name,
        100 * test_accuracy,
        output_path,
    )
    return output_path, test_accuracy
