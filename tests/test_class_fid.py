"""Per-class FID (intra-FID): exact values, a class swap it sees and plain FID does not, runs."""

from __future__ import annotations

import logging
import math

import pytest
import torch

from ganarena.data import DigitsDataModule
from ganarena.metrics import ClassConditionalFID, frechet_distance
from ganarena.metrics.class_fid import frechet_from_moments
from ganarena.training import train

from .helpers import FAST, column, read_metrics


def blobs(per_class: int, classes: int = 3, dim: int = 4, seed: int = 0):
    """Features of `classes` well separated Gaussian blobs, with their labels."""
    source = torch.Generator().manual_seed(seed)
    labels = torch.arange(classes).repeat_interleave(per_class)
    centres = 5.0 * torch.eye(classes, dim)
    features = centres[labels] + torch.randn(len(labels), dim, generator=source)
    return features.double(), labels


def class_fids(real, real_labels, fake, fake_labels, classes: int = 3) -> torch.Tensor:
    metric = ClassConditionalFID(classes, real.shape[1])
    metric.set_real(real, real_labels)
    metric.update(fake, fake_labels)
    return metric.compute()


def test_each_class_fid_equals_torchmetrics_fid_on_that_class() -> None:
    real, real_labels = blobs(200, seed=0)
    fake, fake_labels = blobs(150, seed=1)
    fake[fake_labels == 2] += 0.5  # one class drawn a little off
    fids = class_fids(real, real_labels, fake, fake_labels)
    for c in range(3):
        expected = frechet_distance(real[real_labels == c], fake[fake_labels == c])
        assert fids[c].item() == pytest.approx(expected, rel=1e-6, abs=1e-9)
    assert fids[2] > max(fids[0], fids[1]) + 0.7  # the shift adds ‖0.5·1‖² = 1


def test_a_generator_that_swaps_classes_has_a_low_fid_but_a_high_intra_fid() -> None:
    real, labels = blobs(300, seed=0)
    fake, _ = blobs(300, seed=1)
    asked_for = (labels + 1) % 3  # every sample is the class after the one asked for
    pooled = frechet_distance(real, fake)
    swapped = class_fids(real, labels, fake, asked_for)
    honest = class_fids(real, labels, fake, labels)
    assert pooled < 0.5  # the pooled feature distribution is right
    assert swapped.min() > 40  # ‖e_c − e_c+1‖² · 25 = 50 per class
    assert honest.max() < 0.5


def test_updates_in_parts_equal_one_update() -> None:
    """The generated side keeps sums, so shards (DDP ranks, batches) add up exactly."""
    real, real_labels = blobs(100, seed=0)
    fake, fake_labels = blobs(100, seed=1)
    whole = class_fids(real, real_labels, fake, fake_labels)
    metric = ClassConditionalFID(3, 4)
    metric.set_real(real, real_labels)
    for part, part_labels in zip(fake.split(70), fake_labels.split(70), strict=True):
        metric.update(part, part_labels)
    torch.testing.assert_close(metric.compute(), whole)


def test_a_class_with_fewer_than_two_samples_is_nan_not_an_error() -> None:
    real, real_labels = blobs(50)
    fake, fake_labels = blobs(50, seed=1)
    keep = (fake_labels != 1) | (torch.arange(len(fake_labels)) == 50)  # one sample of class 1
    fids = class_fids(real, real_labels, fake[keep], fake_labels[keep])
    assert math.isnan(fids[1]) and not fids[[0, 2]].isnan().any()


def test_real_labels_match_the_real_samples() -> None:
    data = DigitsDataModule()
    samples, labels = data.real_samples(50), data.real_labels(50)
    dataset = data.train_dataset
    for sample, label in zip(samples[:5], labels[:5], strict=True):
        index = next(i for i in range(len(dataset)) if torch.equal(dataset[i][0], sample))
        assert dataset[index][1] == label


def test_a_conditional_run_logs_intra_fid_and_every_class(
    compose_config, tmp_path, classifier_dir
) -> None:
    run = tmp_path / "run"
    cfg = compose_config(
        *FAST,
        "conditioning=acgan",
        f"callbacks.metric_features.classifier_dir={classifier_dir}",
        output_dir=run,
    )
    train(cfg)
    rows = read_metrics(run)
    intra = column(rows, "val/intra_fid")
    per_class = [column(rows, f"val/class_fid/{c}")[-1] for c in range(10)]
    assert len(intra) == 1 and intra[0] == pytest.approx(sum(per_class) / 10)
    assert all(fid > 0 for fid in per_class)


def test_an_unconditional_run_skips_class_fid_with_one_line(
    compose_config, tmp_path, classifier_dir, caplog
) -> None:
    run = tmp_path / "run"
    caplog.set_level(logging.INFO)
    train(
        compose_config(
            *FAST, f"callbacks.metric_features.classifier_dir={classifier_dir}", output_dir=run
        )
    )
    rows = read_metrics(run)
    assert column(rows, "val/fid") and not column(rows, "val/intra_fid")
    assert "class_fid: skipped: the generator is unconditional" in caplog.text


def test_non_finite_moments_give_nan_not_a_crash() -> None:
    mean, covariance = torch.zeros(128, dtype=torch.float64), torch.eye(128, dtype=torch.float64)
    broken = torch.full_like(covariance, float("nan"))
    assert math.isnan(frechet_from_moments(mean, covariance, mean, broken))
    assert float(frechet_from_moments(mean, covariance, mean, covariance)) == pytest.approx(0.0)
