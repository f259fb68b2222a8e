"""Mode coverage: all modes on exact mixture samples, one mode on one Gaussian."""

from __future__ import annotations

import math

import pytest
import torch

from ganarena.data import GridDataModule, RingDataModule
from ganarena.metrics import mode_coverage


@pytest.mark.parametrize(("datamodule", "modes"), [(RingDataModule, 8), (GridDataModule, 25)])
def test_exact_mixture_samples_cover_every_mode(datamodule, modes) -> None:
    data = datamodule(num_samples=2_500)
    result = mode_coverage(data.real_samples(2_500), data.means, data.std)
    assert result.modes_captured == modes
    # Within 3 std of its mean: 1 - exp(-9/2) = 98.9% of a 2-D Gaussian.
    assert result.high_quality_fraction == pytest.approx(1 - math.exp(-4.5), abs=0.01)
    assert result.reverse_kl < 0.05


def test_one_gaussian_is_one_mode_with_reverse_kl_log_k() -> None:
    data = RingDataModule()
    samples = data.means[3] + data.std * torch.randn(
        2_500, 2, generator=torch.Generator().manual_seed(0)
    )
    result = mode_coverage(samples, data.means, data.std)
    assert result.modes_captured == 1
    assert result.reverse_kl == pytest.approx(math.log(8))


def test_points_far_from_every_mode_are_low_quality() -> None:
    data = RingDataModule()
    result = mode_coverage(torch.zeros(100, 2), data.means, data.std)
    assert result.modes_captured == 0
    assert result.high_quality_fraction == 0.0
    assert result.reverse_kl == math.inf
