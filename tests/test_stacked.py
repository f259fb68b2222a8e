"""Stacked digits and Stacked MNIST: 1,000 modes, counted per channel by the digits classifier."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf
from torch import Tensor, nn

from ganarena.callbacks import StackedModesCallback
from ganarena.config import CONFIG_DIR
from ganarena.data import DigitsDataModule, RingDataModule, StackedDataModule
from ganarena.data.in_memory import scale_to_unit_range
from ganarena.errors import GanArenaError
from ganarena.features import ChannelwiseFeatures, DomainClassifierFeatures
from ganarena.features.channelwise import joint_log_probs
from ganarena.training import instantiate, train

from .helpers import FAST, column, read_metrics
from .test_data import fake_mnist


class Replaying(nn.Module):
    """A 'generator' that plays back fixed images in order, whatever the noise."""

    latent_dim = 4

    def __init__(self, images: Tensor) -> None:
        super().__init__()
        self.images = images
        self.served = 0

    def generate(self, noise: Tensor, labels: Tensor | None = None) -> Tensor:
        count = len(noise)
        picks = torch.arange(self.served, self.served + count) % len(self.images)
        self.served += count
        return self.images[picks]


def stacked_digits(**options: object) -> StackedDataModule:
    datamodule = StackedDataModule(DigitsDataModule(), **options)
    datamodule.setup("fit")
    return datamodule


def modes_of(generator: nn.Module, datamodule: StackedDataModule, classifier_dir: Path) -> dict:
    callback = StackedModesCallback({"classifier_dir": str(classifier_dir)}, every_n_steps=0)
    assert callback.num_samples == 10_000  # the constructor's; the config sets 26,000
    callback.num_samples = 26_000
    assert callback.prepare(datamodule, torch.device("cpu")) is None
    return callback.measure(generator, datamodule, tag=0)


def test_stacked_digits_has_all_1000_triples_and_each_channel_is_a_digit() -> None:
    datamodule = stacked_digits(num_samples=20_000)
    dataset = datamodule.train_dataset
    assert datamodule.sample_shape == (3, 8, 8) and datamodule.num_classes == 1000
    assert len(dataset) == 20_000 and len(torch.unique(dataset.labels)) == 1000
    base = datamodule.base.train_dataset
    for index in (0, 1, 19_999):
        image, code = dataset.samples[index], int(dataset.labels[index])
        for channel, digit in enumerate((code // 100, code // 10 % 10, code % 10)):
            same = (base.samples[:, 0] == image[channel]).flatten(1).all(dim=1)
            assert same.any() and set(base.labels[same].tolist()) == {digit}


def test_stacked_data_depends_only_on_data_seed() -> None:
    first, again, other = (stacked_digits(num_samples=500, data_seed=s) for s in (0, 0, 1))
    assert torch.equal(first.train_dataset.samples, again.train_dataset.samples)
    assert not torch.equal(first.train_dataset.samples, other.train_dataset.samples)
    assert first.name == "stacked-digits-8-n500-s0" != other.name


def test_stacked_mnist_config_builds_1000_modes_from_mnist(tmp_path: Path, offline) -> None:
    fake_mnist(tmp_path / "MNIST" / "raw", "train", 200)
    composed = OmegaConf.create({"paths": {"data_dir": str(tmp_path)}})
    composed.data = OmegaConf.load(CONFIG_DIR / "data" / "stacked_mnist.yaml")
    datamodule = instantiate(composed.data)
    datamodule.setup("fit")
    assert datamodule.sample_shape == (3, 28, 28) and datamodule.num_classes == 1000
    assert len(datamodule.train_dataset) == 128_000
    assert len(torch.unique(datamodule.train_dataset.labels)) == 1000


@pytest.mark.parametrize("base", [RingDataModule, lambda: StackedDataModule(DigitsDataModule())])
def test_stacked_data_on_anything_but_grey_ten_class_images_is_one_line(base) -> None:
    with pytest.raises(GanArenaError) as excinfo:
        StackedDataModule(base())
    message = str(excinfo.value)
    assert "\n" not in message
    assert "set data.base to the digits or MNIST data (data=stacked_digits" in message


def test_joint_log_probs_index_the_triple_first_channel_most_significant() -> None:
    log_probs = torch.full((1, 3, 10), -50.0)
    log_probs[0, 0, 7], log_probs[0, 1, 0], log_probs[0, 2, 3] = 0.0, 0.0, 0.0
    joint = joint_log_probs(log_probs)
    assert joint.shape == (1, 1000) and int(joint.argmax()) == 703
    assert float(joint[0, 703]) == 0.0 and float(joint[0, 704]) == -50.0


def test_channelwise_features_read_each_channel_with_the_grey_classifier(classifier_dir) -> None:
    grey = DomainClassifierFeatures(classifier_dir / "digits-8.pt")
    features = ChannelwiseFeatures(grey)
    assert features.num_classes == 1000 and features.num_features == 3 * grey.num_features
    images = scale_to_unit_range(stacked_digits(num_samples=64).train_dataset.samples)
    joint = features.extract(images)
    per_channel = [grey.extract(images[:, [c]]) for c in range(3)]
    digits = [part.logits.argmax(dim=1) for part in per_channel]
    assert torch.equal(joint.logits.argmax(dim=1), digits[0] * 100 + digits[1] * 10 + digits[2])
    expected = torch.cat([part.features for part in per_channel], dim=1)
    assert torch.allclose(joint.features, expected)


def test_modes_of_real_stacked_digits_are_1000_and_of_one_repeated_image_1(
    classifier_dir,
) -> None:
    datamodule = stacked_digits()
    real = scale_to_unit_range(datamodule.train_dataset.samples)
    on_real = modes_of(Replaying(real[:26_000]), datamodule, classifier_dir)
    assert on_real["val/modes_captured"] == 1000
    assert on_real["val/reverse_kl"] < 0.05  # 26 samples a mode, drawn uniformly
    on_one = modes_of(Replaying(real[:1]), datamodule, classifier_dir)
    assert on_one == {"val/modes_captured": 1.0, "val/reverse_kl": pytest.approx(math.log(1000))}


def test_stacked_digits_run_logs_modes_of_1000(compose_config, tmp_path) -> None:
    run = tmp_path / "run"
    train(compose_config(*FAST, "data=stacked_digits", "data.num_samples=2000", output_dir=run))
    rows = read_metrics(run)
    modes = column(rows, "val/modes_captured")
    assert len(modes) == 1 and 1 <= modes[0] <= 300  # 300 samples after 4 steps
    assert column(rows, "val/reverse_kl")[0] >= math.log(1000 / modes[0]) - 1e-6
    assert 1 <= column(rows, "val/classes_covered")[0] <= 1000
    assert column(rows, "val/fid")[0] > 0


def test_stacked_modes_skip_other_data_in_one_line(compose_config, tmp_path, caplog) -> None:
    with caplog.at_level(logging.INFO):
        train(compose_config(*FAST, output_dir=tmp_path / "run"))
    assert "stacked_modes: skipped: digits-8 is not stacked data (data=stacked_digits" in (
        caplog.text
    )


def test_the_feature_memo_is_for_one_module_even_when_a_freed_ones_id_comes_back(
    classifier_dir,
) -> None:
    """Two generators measured at the same tag, the first freed before the second exists:
    CPython hands the second the first's address (its `id`) whenever it can."""
    datamodule = stacked_digits()
    real = scale_to_unit_range(datamodule.train_dataset.samples)
    callback = StackedModesCallback({"classifier_dir": str(classifier_dir)}, every_n_steps=0)
    callback.num_samples = 2_000
    callback.prepare(datamodule, torch.device("cpu"))
    first = callback.measure(Replaying(real[:2_000]), datamodule, tag=0)["val/modes_captured"]
    second = callback.measure(Replaying(real[:1]), datamodule, tag=0)["val/modes_captured"]
    assert first > 500 and second == 1.0
