"""FID, precision/recall and class coverage on feature sets whose answers are known."""

from __future__ import annotations

import math

import pytest
import torch

from ganarena.metrics import ClassCoverage, frechet_distance, precision_recall
from ganarena.metrics.class_coverage import kl_from_reference
from ganarena.metrics.precision_recall import CHUNK, kth_neighbour_radii


def gaussian_features(n: int = 4000, d: int = 16, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_fid_of_a_set_against_itself_is_zero() -> None:
    features = gaussian_features()
    assert frechet_distance(features, features) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("shift", [0.1, 0.5, 2.0])
def test_fid_of_a_shifted_set_is_d_times_the_squared_shift(shift: float) -> None:
    # Same covariance, means apart by `shift` in each of d dims: FID = d * shift².
    features = gaussian_features()
    assert frechet_distance(features, features + shift) == pytest.approx(16 * shift**2, rel=1e-4)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_fid_of_non_finite_samples_is_nan_not_a_crash(bad: float) -> None:
    # 128 features: there MKL's eigenvalue routine killed the process on a non-finite matrix.
    real = torch.randn(500, 128, generator=torch.Generator().manual_seed(0))
    assert math.isnan(frechet_distance(real, torch.full((500, 128), bad)))


def test_fid_grows_with_the_shift_between_independent_samples() -> None:
    real, fake = gaussian_features(seed=0), gaussian_features(seed=1)
    values = [frechet_distance(real, fake + shift) for shift in (0.0, 0.25, 0.5, 1.0)]
    assert values[0] < 0.05
    assert values == sorted(values)


def test_precision_and_recall_of_identical_sets_are_one_and_of_far_sets_zero() -> None:
    real = gaussian_features(500, 4).float()
    assert precision_recall(real, real.clone()) == (1.0, 1.0)
    assert precision_recall(real, real + 100.0) == (0.0, 0.0)


def test_precision_is_quality_and_recall_is_coverage() -> None:
    # Generated samples that sit on half of the real set: all inside (precision 1),
    # but they cover only that half (recall about 0.5).
    real = torch.cat([gaussian_features(400, 2, seed=2), gaussian_features(400, 2, seed=3) + 50])
    fake = real[:400].clone().float()
    precision, recall = precision_recall(real.float(), fake)
    assert precision == 1.0
    assert recall == pytest.approx(0.5, abs=0.01)


def test_each_radius_is_the_distance_to_the_kth_other_sample_across_chunks() -> None:
    # Points on a line at 0, 1, 2, ...: the 3rd nearest other point of an inner point is 2
    # away, of an end point 3 away; more points than one chunk of the distance matrix.
    points = torch.arange(CHUNK + 5, dtype=torch.float32)[:, None]
    radii = kth_neighbour_radii(points, k=3)
    assert radii[0] == radii[-1] == 3.0
    assert radii[1] == radii[-2] == 2.0  # 0 and 2 at 1, then 3 at 2
    assert torch.all(radii[2:-2] == 2.0)


def test_class_coverage_counts_classes_and_kl_from_the_data() -> None:
    reference_logits = torch.eye(10).repeat(10, 1)  # the data: 10 of each class
    metric = ClassCoverage(num_classes=10)
    metric.set_reference(reference_logits)
    metric.update(torch.eye(10)[[3] * 50])  # a collapsed generator: only threes
    covered, kl = metric.compute()
    assert covered == 1
    assert float(kl) == pytest.approx(math.log(10))
    metric.reset()
    metric.update(torch.eye(10).repeat(5, 1))
    covered, kl = metric.compute()
    assert covered == 10
    assert float(kl) == pytest.approx(0.0, abs=1e-12)


def test_kl_is_infinite_where_the_data_has_no_mass() -> None:
    assert kl_from_reference(torch.tensor([1.0, 1.0]), torch.tensor([1.0, 0.0])) == math.inf
