"""Data modules: batch contract, exact mixture geometry, file loading and one-line errors."""

from __future__ import annotations

import gzip
import inspect
import math
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from PIL import Image
from torch.utils.data import DataLoader, DistributedSampler

from ganarena.data import (
    ArrayDataModule,
    CelebADataModule,
    CIFAR10DataModule,
    DigitsDataModule,
    FashionMNISTDataModule,
    GANDataModule,
    GridDataModule,
    ImageFolderDataModule,
    InMemoryDataset,
    MNISTDataModule,
    RingDataModule,
    collate_prebatched,
    grid_means,
    ring_means,
)
from ganarena.data.idx_format import read_idx, write_idx
from ganarena.errors import GanArenaError
from ganarena.training import train

from .helpers import FAST, column, read_metrics

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs" / "data"


def first_batch(datamodule: GANDataModule) -> tuple[torch.Tensor, torch.Tensor]:
    datamodule.prepare_data()
    datamodule.setup("fit")
    batch = next(iter(datamodule.train_dataloader()))
    assert isinstance(batch, tuple) and len(batch) == 2
    return batch


def assert_image_batch(batch: tuple[torch.Tensor, torch.Tensor], datamodule: GANDataModule):
    samples, labels = batch
    expected = datamodule.batch_size * datamodule.batches_per_step
    assert samples.shape == (expected, *datamodule.sample_shape)
    assert samples.dtype == torch.float32
    assert samples.min() >= -1.0 and samples.max() <= 1.0
    assert samples.min() < 0 < samples.max()  # really scaled, not left in [0, 1]
    assert labels.shape == (expected,) and labels.dtype == torch.int64


def one_line_error(excinfo: pytest.ExceptionInfo) -> str:
    message = str(excinfo.value)
    assert "\n" not in message
    return message


# --- digits ---------------------------------------------------------------------------------


def serving(datamodule: GANDataModule, batches_per_step: int) -> GANDataModule:
    """As `GANModule.setup` does: the loss's n_critic sets the batches a step takes."""
    datamodule.batches_per_step = batches_per_step
    return datamodule


def test_digits_batch_holds_batches_per_step_batches_in_minus_one_one():
    datamodule = serving(DigitsDataModule(batch_size=16), 3)
    assert datamodule.sample_shape == (1, 8, 8) and datamodule.num_classes == 10
    batch = first_batch(datamodule)
    assert_image_batch(batch, datamodule)
    assert len(datamodule.train_dataset) == 1797
    assert set(datamodule.train_dataset.labels.tolist()) == set(range(10))
    assert datamodule.name == "digits-8"


def test_digits_resize_to_image_size():
    datamodule = DigitsDataModule(image_size=16, batch_size=8)
    assert datamodule.sample_shape == (1, 16, 16)
    assert_image_batch(first_batch(datamodule), datamodule)
    assert datamodule.name == "digits-16"


def test_a_fraction_of_the_digits_trains_while_metrics_compare_with_all_of_them():
    small = DigitsDataModule(fraction=0.1)
    small.setup("fit")
    counts = torch.bincount(small.train_dataset.labels, minlength=10)
    full_counts = torch.bincount(DigitsDataModule(fraction=1.0).real_labels(1797), minlength=10)
    assert torch.equal(counts, (full_counts * 0.1).round().long())  # a tenth of every class
    assert len(small.train_dataset) == 179 and small.num_reference_samples == 1797
    assert torch.equal(small.real_samples(1797), DigitsDataModule().real_samples(1797))
    train = {tuple(image.flatten().tolist()) for image in small.train_dataset.samples}
    reference = {tuple(image.flatten().tolist()) for image in small.reference_dataset.samples}
    assert train <= reference
    again = DigitsDataModule(fraction=0.1)
    again.setup("fit")
    assert torch.equal(again.train_dataset.samples, small.train_dataset.samples)
    served = torch.cat([images for images, _ in small.train_dataloader()])
    assert len(served) == 128  # two batches of 64 from the 179 (drop_last), not 28 batches
    train_set = {tuple(image.flatten().tolist()) for image in small.train_dataset.__getitems__(
        list(range(len(small.train_dataset))))[0]}  # fmt: skip
    assert {tuple(image.flatten().tolist()) for image in served} <= train_set


@pytest.mark.parametrize("fraction", [0, 1.5, -0.1])
def test_a_fraction_outside_zero_one_stops_with_one_line(fraction):
    with pytest.raises(GanArenaError, match=r"data.fraction must lie in \(0, 1\]"):
        DigitsDataModule(fraction=fraction)


def test_real_samples_are_deterministic_and_bounded():
    first, second = DigitsDataModule(), DigitsDataModule()
    samples = first.real_samples(100)
    assert samples.shape == (100, 1, 8, 8)
    assert torch.equal(samples, second.real_samples(100))
    assert torch.equal(samples[:10], first.real_samples(10))
    assert not torch.equal(samples[:10], first.train_dataset.__getitems__(list(range(10)))[0])
    with pytest.raises(GanArenaError, match="only 1797"):
        first.real_samples(1798)


def test_too_few_samples_for_one_step_names_batch_size():
    datamodule = serving(RingDataModule(num_samples=100, batch_size=60), 2)
    datamodule.setup("fit")
    with pytest.raises(GanArenaError) as excinfo:
        datamodule.train_dataloader()
    message = one_line_error(excinfo)
    assert "data.batch_size=60 x 2 discriminator steps (loss.n_critic)" in message


@pytest.mark.parametrize(
    ("option", "value"),
    [("batch_size", 0), ("batch_size", -1), ("batch_size", 2.5), ("num_workers", -1)],
)
def test_bad_batch_options_are_rejected(option: str, value: object):
    with pytest.raises(GanArenaError, match=f"data.{option} must be"):
        DigitsDataModule(**{option: value})


# --- Gaussian mixtures ----------------------------------------------------------------------


def test_ring_has_eight_distinct_means_at_exact_angles():
    means = ring_means(8, 2.0)
    angles = [2 * math.pi * k / 8 for k in range(8)]
    expected = torch.tensor([[2.0 * math.cos(a), 2.0 * math.sin(a)] for a in angles])
    torch.testing.assert_close(means, expected)
    assert torch.cdist(means, means).add(torch.eye(8) * 10).min() > 1.0  # 8 distinct modes
    torch.testing.assert_close(means.norm(dim=1), torch.full((8,), 2.0))


def test_grid_means_are_exactly_the_5x5_grid():
    means = grid_means(5, 2.0)
    points = {(x, y) for x, y in means.tolist()}
    coordinates = [-4.0, -2.0, 0.0, 2.0, 4.0]
    assert len(means) == 25 and points == {(x, y) for x in coordinates for y in coordinates}


@pytest.mark.parametrize(
    ("module_class", "modes"), [(RingDataModule, 8), (GridDataModule, 25)], ids=["ring", "grid"]
)
def test_mixture_samples_lie_at_the_mean_of_their_label(module_class: type, modes: int):
    datamodule = serving(module_class(num_samples=5_000, batch_size=32), 2)
    assert datamodule.sample_shape == (2,) and datamodule.num_classes == modes
    samples, labels = first_batch(datamodule)
    assert samples.shape == (64, 2) and samples.dtype == torch.float32
    assert labels.shape == (64,) and labels.dtype == torch.int64
    dataset = datamodule.train_dataset
    distances = (dataset.samples - datamodule.means[dataset.labels]).norm(dim=1)
    assert distances.max() < 6 * datamodule.std
    nearest = torch.cdist(dataset.samples, datamodule.means).argmin(dim=1)
    assert torch.equal(nearest, dataset.labels)
    assert set(dataset.labels.tolist()) == set(range(modes))


def test_mixture_data_depends_only_on_data_seed():
    def samples(seed: int) -> torch.Tensor:
        datamodule = RingDataModule(num_samples=1_000, data_seed=seed)
        datamodule.setup("fit")
        return datamodule.train_dataset.samples

    torch.manual_seed(123)  # the run's seed must not matter
    first = samples(0)
    torch.manual_seed(456)
    assert torch.equal(first, samples(0))
    assert not torch.equal(first, samples(1))


def test_mixture_names():
    assert RingDataModule(radius=1).name == "ring-8-r1.0-s0.01"
    assert GridDataModule().name == "grid-5-sp2.0-s0.05"


# --- InMemoryDataset and the DataLoader -----------------------------------------------------


def test_in_memory_dataset_works_with_distributed_sampler():
    images = torch.arange(20, dtype=torch.uint8).view(20, 1, 1, 1)
    dataset = InMemoryDataset(images, torch.arange(20) + 100)
    sampler = DistributedSampler(dataset, num_replicas=2, rank=0, shuffle=False)
    loader = DataLoader(
        dataset, batch_size=4, sampler=sampler, drop_last=True, collate_fn=collate_prebatched
    )
    batches = list(loader)
    assert len(batches) == 2
    samples, labels = batches[0]
    assert samples.shape == (4, 1, 1, 1) and samples.dtype == torch.float32
    assert torch.equal(labels, torch.tensor([100, 102, 104, 106]))
    torch.testing.assert_close(samples.flatten(), torch.tensor([0.0, 2, 4, 6]) / 127.5 - 1)


def test_in_memory_dataset_without_labels_gives_minus_one():
    dataset = InMemoryDataset(torch.full((5, 1, 2, 2), 255, dtype=torch.uint8))
    samples, labels = dataset.__getitems__([0, 3])
    assert torch.equal(labels, torch.tensor([-1, -1])) and torch.all(samples == 1.0)


# --- torchvision sets -----------------------------------------------------------------------


def fake_mnist(raw_dir: Path, prefix: str, count: int, suffix: str = ".gz") -> np.ndarray:
    raw_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255
    write_idx(raw_dir / f"{prefix}-images-idx3-ubyte{suffix}", images)
    write_idx(raw_dir / f"{prefix}-labels-idx1-ubyte{suffix}", np.arange(count) % 10)
    return images


def test_idx_writer_writes_the_download_format_byte_for_byte(tmp_path: Path):
    """MNIST's layout: 0, 0, 0x08 (uint8), ndim, big-endian int32 sizes, then the bytes."""
    array = np.arange(6, dtype=np.uint8).reshape(2, 3)
    write_idx(tmp_path / "a-idx2-ubyte", array)
    write_idx(tmp_path / "a-idx2-ubyte.gz", array)
    expected = bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 1, 2, 3, 4, 5])
    assert (tmp_path / "a-idx2-ubyte").read_bytes() == expected
    assert gzip.decompress((tmp_path / "a-idx2-ubyte.gz").read_bytes()) == expected
    assert np.array_equal(read_idx(tmp_path / "a-idx2-ubyte.gz"), array)


def test_mnist_loads_gzipped_idx_files(tmp_path: Path, offline: None):
    images = fake_mnist(tmp_path / "MNIST" / "raw", "train", 40)
    datamodule = serving(MNISTDataModule(root=str(tmp_path), batch_size=8), 2)
    assert datamodule.sample_shape == (1, 28, 28) and datamodule.num_classes == 10
    assert_image_batch(first_batch(datamodule), datamodule)
    dataset = datamodule.train_dataset
    assert torch.equal(dataset.samples[:, 0], torch.from_numpy(images))
    assert torch.equal(dataset.labels, torch.arange(40) % 10)
    assert datamodule.name == "mnist-train-28"


def test_fashion_mnist_test_split_plain_idx_and_resize(tmp_path: Path, offline: None):
    fake_mnist(tmp_path / "FashionMNIST" / "raw", "t10k", 20, suffix="")
    datamodule = FashionMNISTDataModule(
        root=str(tmp_path), train=False, image_size=32, batch_size=10
    )
    assert datamodule.sample_shape == (1, 32, 32)
    assert_image_batch(first_batch(datamodule), datamodule)
    assert datamodule.name == "fashion_mnist-test-32"


def test_missing_mnist_with_download_fails_offline_in_one_line(tmp_path: Path, offline: None):
    datamodule = MNISTDataModule(root=str(tmp_path / "data"), download=True)
    with pytest.raises(GanArenaError) as excinfo:
        datamodule.prepare_data()
    message = one_line_error(excinfo)
    raw_dir = str(tmp_path / "data" / "MNIST" / "raw")
    assert message.startswith(f"MNIST is not in {raw_dir} and could not be downloaded")
    assert f"train-labels-idx1-ubyte.gz into {raw_dir}/" in message


def test_missing_mnist_without_download_says_where_and_how(tmp_path: Path):
    datamodule = MNISTDataModule(root=str(tmp_path), download=False)
    with pytest.raises(GanArenaError) as excinfo:
        datamodule.prepare_data()
    message = one_line_error(excinfo)
    assert str(tmp_path / "MNIST" / "raw") in message and "data.download=true" in message
    with pytest.raises(GanArenaError, match="is not in"):
        datamodule.setup("fit")


def test_corrupt_idx_file_is_named(tmp_path: Path):
    raw_dir = tmp_path / "MNIST" / "raw"
    fake_mnist(raw_dir, "train", 10)
    (raw_dir / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip")
    with pytest.raises(GanArenaError, match=r"train-images-idx3-ubyte\.gz is not a valid IDX"):
        MNISTDataModule(root=str(tmp_path), batch_size=2).setup("fit")


CIFAR10_BATCHES = [f"data_batch_{index}" for index in range(1, 6)] + ["test_batch"]


def fake_cifar10(folder: Path, count: int) -> list[np.ndarray]:
    """CIFAR-10's python batches as its tarball extracts them: dicts of (count, 3072) uint8
    rows, red then green then blue planes, and a label list; batch i is labelled i."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    rows = [rng.integers(0, 256, (count, 3072), dtype=np.uint8) for _ in CIFAR10_BATCHES]
    for index, (name, batch_rows) in enumerate(zip(CIFAR10_BATCHES, rows, strict=True), 1):
        batch = {"data": batch_rows, "labels": [index % 10] * count}
        (folder / name).write_bytes(pickle.dumps(batch))
    return rows


def test_cifar10_loads_python_batches(tmp_path: Path):
    rows = fake_cifar10(tmp_path / "cifar-10-batches-py", 6)
    datamodule = CIFAR10DataModule(root=str(tmp_path), batch_size=10)
    assert datamodule.sample_shape == (3, 32, 32) and datamodule.num_classes == 10
    assert_image_batch(first_batch(datamodule), datamodule)
    dataset = datamodule.train_dataset
    assert len(dataset) == 30 and dataset.labels[6].item() == 2
    assert torch.equal(dataset.samples[0], torch.from_numpy(rows[0][0].reshape(3, 32, 32)))


def test_missing_cifar10_offline(tmp_path: Path, offline: None):
    with pytest.raises(GanArenaError) as excinfo:
        CIFAR10DataModule(root=str(tmp_path)).prepare_data()
    assert str(tmp_path / "cifar-10-batches-py") in one_line_error(excinfo)


# The image sets end to end: `python src/train.py data=NAME` offline, from stand-ins laid out as
# the downloads are, with the networks the data chooses (docs/data.md), metrics included.
STAND_INS = {
    "fashion_mnist": lambda data_dir: fake_mnist(data_dir / "FashionMNIST" / "raw", "train", 64),
    "cifar10": lambda data_dir: fake_cifar10(data_dir / "cifar-10-batches-py", 16),
}
RECOMMENDED = {
    "fashion_mnist": ("infogan", "ganarena.networks.InfoGANDiscriminator"),
    "cifar10": ("sndcgan", "ganarena.networks.StandardCNNDiscriminator"),
}


@pytest.mark.parametrize("data", sorted(STAND_INS))
def test_image_set_trains_offline_from_its_download_layout(compose_config, tmp_path, offline, data):
    run = tmp_path / "run"
    STAND_INS[data](run / "data")  # compose_config's paths.data_dir
    cfg = compose_config(*FAST, f"data={data}", "data.batch_size=16", output_dir=run)
    model, discriminator = RECOMMENDED[data]
    assert cfg.model.discriminator._target_ == discriminator, f"data={data} should pick {model}"
    train(cfg)
    rows = read_metrics(run)
    assert [int(row["step"]) for row in rows] == [1, 2, 3, 4]
    assert all(np.isfinite(float(row["train/loss_d"])) for row in rows)
    assert np.isfinite(column(rows, "val/fid")[-1])  # the domain classifier, trained on the spot
    assert (run / "checkpoints" / "last.ckpt").is_file() and list((run / "samples").glob("*.png"))


MISSING = [("fashion_mnist", "FashionMNIST/raw"), ("cifar10", "cifar-10-batches-py")]


@pytest.mark.parametrize(("data", "folder"), MISSING)
def test_image_set_without_its_files_stops_in_one_line(
    compose_config, tmp_path, offline, data, folder
):
    with pytest.raises(GanArenaError) as excinfo:
        train(compose_config(*FAST, f"data={data}", output_dir=tmp_path / "run"))
    message = one_line_error(excinfo)
    assert str(tmp_path / "run" / "data" / folder) in message
    assert "could not be downloaded" in message


def test_celeba_streams_centre_cropped_faces(tmp_path: Path):
    images_dir = tmp_path / "celeba" / "img_align_celeba"
    images_dir.mkdir(parents=True)
    partition = []
    for index in range(5):
        name = f"{index:06d}.jpg"
        Image.new("RGB", (178, 218), (40 * index, 255, 0)).save(images_dir / name)
        partition.append(f"{name} {2 if index == 4 else 0}")
    (tmp_path / "celeba" / "list_eval_partition.txt").write_text("\n".join(partition))
    datamodule = CelebADataModule(root=str(tmp_path), image_size=16, batch_size=4, num_workers=0)
    assert datamodule.sample_shape == (3, 16, 16) and datamodule.num_classes is None
    samples, labels = first_batch(datamodule)
    assert samples.shape == (4, 3, 16, 16) and samples.dtype == torch.float32
    assert torch.equal(labels, torch.full((4,), -1))
    assert len(datamodule.train_dataset) == 4
    torch.testing.assert_close(samples[:, 1], torch.ones(4, 16, 16))  # green 255 -> 1


def test_missing_celeba_offline(tmp_path: Path, offline: None):
    with pytest.raises(GanArenaError) as excinfo:
        CelebADataModule(root=str(tmp_path)).prepare_data()
    assert str(tmp_path / "celeba" / "img_align_celeba") in one_line_error(excinfo)


# --- image folder ---------------------------------------------------------------------------


def write_images(folder: Path, count: int, size: tuple[int, int] = (20, 12)) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        pixels = np.zeros((size[1], size[0], 3), dtype=np.uint8)
        pixels[:, : size[0] // 2] = 255
        Image.fromarray(pixels).save(folder / f"{index}.png")


def test_image_folder_class_subfolders_become_labels(tmp_path: Path):
    write_images(tmp_path / "cats", 3)
    write_images(tmp_path / "dogs", 2)
    (tmp_path / "empty").mkdir()
    datamodule = ImageFolderDataModule(
        path=str(tmp_path), image_size=8, batch_size=5, num_workers=0
    )
    assert datamodule.num_classes == 2 and datamodule.sample_shape == (3, 8, 8)
    samples, labels = first_batch(datamodule)
    assert_image_batch((samples, labels), datamodule)
    assert sorted(labels.tolist()) == [0, 0, 0, 1, 1]


def test_image_folder_flat_is_unlabelled_and_grey(tmp_path: Path):
    write_images(tmp_path, 4)
    datamodule = ImageFolderDataModule(
        path=str(tmp_path), image_size=6, channels=1, batch_size=4, num_workers=0
    )
    assert datamodule.num_classes is None and datamodule.sample_shape == (1, 6, 6)
    samples, labels = first_batch(datamodule)
    assert_image_batch((samples, labels), datamodule)
    assert torch.equal(labels, torch.full((4,), -1))


def test_image_folder_missing_path_fails_in_init(tmp_path: Path):
    missing = tmp_path / "nope"
    with pytest.raises(GanArenaError) as excinfo:
        ImageFolderDataModule(path=str(missing))
    message = one_line_error(excinfo)
    assert message == f"data.path '{missing}' does not exist: set data.path=/path/to/images"


def test_image_folder_without_images_names_extensions(tmp_path: Path):
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(GanArenaError) as excinfo:
        ImageFolderDataModule(path=str(tmp_path))
    message = one_line_error(excinfo)
    assert ".png" in message and ".jpg" in message and str(tmp_path) in message


# --- numpy arrays ---------------------------------------------------------------------------


def random_images(shape: tuple[int, ...]) -> np.ndarray:
    images = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    images.reshape(-1)[:2] = (0, 255)
    return images


def test_array_npy_grey_without_labels(tmp_path: Path):
    images = random_images((12, 10, 10))
    np.save(tmp_path / "faces.npy", images)
    datamodule = ArrayDataModule(path=str(tmp_path / "faces.npy"), batch_size=6)
    assert datamodule.sample_shape == (1, 10, 10) and datamodule.num_classes is None
    samples, labels = first_batch(datamodule)
    assert_image_batch((samples, labels), datamodule)
    assert torch.equal(labels, torch.full((6,), -1))
    assert torch.equal(datamodule.train_dataset.samples[:, 0], torch.from_numpy(images))


@pytest.mark.parametrize(("image_key", "label_key"), [("images", "labels"), ("x", "y")])
def test_array_npz_colour_with_labels(tmp_path: Path, image_key: str, label_key: str):
    images = random_images((12, 8, 8, 3))
    arrays = {image_key: images, label_key: np.arange(12) % 4}
    np.savez_compressed(tmp_path / "set.npz", **arrays)
    datamodule = ArrayDataModule(path=str(tmp_path / "set.npz"), image_size=4, batch_size=6)
    assert datamodule.sample_shape == (3, 4, 4) and datamodule.num_classes == 4
    assert_image_batch(first_batch(datamodule), datamodule)
    assert torch.equal(datamodule.train_dataset.labels, torch.arange(12) % 4)


def test_array_npz_single_array_and_separate_labels(tmp_path: Path):
    images = random_images((6, 4, 4, 1))
    np.savez(tmp_path / "only.npz", images)
    np.save(tmp_path / "labels.npy", np.array([0, 1, 2, 0, 1, 2], dtype=np.int32))
    datamodule = ArrayDataModule(
        path=str(tmp_path / "only.npz"), labels_path=str(tmp_path / "labels.npy"), batch_size=3
    )
    assert datamodule.sample_shape == (1, 4, 4) and datamodule.num_classes == 3
    datamodule.setup("fit")
    assert torch.equal(
        datamodule.train_dataset.samples, torch.from_numpy(images).permute(0, 3, 1, 2)
    )


@pytest.mark.parametrize(
    ("images", "labels", "expected"),
    [
        (np.zeros((4, 8, 8), np.float32), None, "not uint8"),
        (np.zeros((4, 8), np.uint8), None, "(N, H, W)"),
        (np.zeros((4, 8, 8, 4), np.uint8), None, "C 1 or 3"),
        (np.zeros((4, 8, 6), np.uint8), None, "data.image_size"),
        (np.zeros((4, 8, 8), np.uint8), np.arange(3), "shape (3,) for 4 images"),
        (np.zeros((4, 8, 8), np.uint8), np.zeros(4, np.float32), "not integers"),
    ],
    ids=["dtype", "ndim", "channels", "not-square", "label-count", "label-dtype"],
)
def test_array_bad_inputs_fail_in_one_line(tmp_path, images, labels, expected):
    labels_path = None
    np.save(tmp_path / "images.npy", images)
    if labels is not None:
        labels_path = str(tmp_path / "labels.npy")
        np.save(labels_path, labels)
    with pytest.raises(GanArenaError) as excinfo:
        ArrayDataModule(path=str(tmp_path / "images.npy"), labels_path=labels_path)
    assert expected in one_line_error(excinfo)


def test_array_missing_file(tmp_path: Path):
    with pytest.raises(GanArenaError) as excinfo:
        ArrayDataModule(path=str(tmp_path / "gone.npy"))
    assert f"data.path '{tmp_path / 'gone.npy'}' does not exist" in one_line_error(excinfo)


# --- configs --------------------------------------------------------------------------------

CONFIG_CLASSES = {
    "digits": DigitsDataModule,
    "ring": RingDataModule,
    "grid": GridDataModule,
    "mnist": MNISTDataModule,
    "fashion_mnist": FashionMNISTDataModule,
    "cifar10": CIFAR10DataModule,
    "celeba": CelebADataModule,
    "image_folder": ImageFolderDataModule,
    "array": ArrayDataModule,
}


@pytest.mark.parametrize("config_name", sorted(CONFIG_CLASSES))
def test_config_lists_every_option_and_instantiates(tmp_path: Path, config_name: str):
    data = OmegaConf.load(CONFIG_DIR / f"{config_name}.yaml")
    data.pop("defaults", None)
    raw = OmegaConf.to_container(data, resolve=False)
    module_class = CONFIG_CLASSES[config_name]
    parameters = inspect.signature(module_class.__init__).parameters
    assert set(raw) - {"_target_"} == set(parameters) - {"self"}
    assert "batches_per_step" not in raw  # the loss decides it, through the GAN module
    for key, parameter in parameters.items():
        default = parameter.default
        if key != "self" and not OmegaConf.is_interpolation(data, key) and default is not None:
            assert raw[key] == default, key
    write_images(tmp_path / "images", 64)
    np.save(tmp_path / "images.npy", random_images((64, 8, 8)))
    composed = OmegaConf.create({"paths": {"data_dir": str(tmp_path)}})
    composed.data = data
    datamodule = instantiate(composed.data)
    assert type(datamodule) is module_class and datamodule.batches_per_step == 1
    assert datamodule.name and len(datamodule.sample_shape) in (1, 3)
