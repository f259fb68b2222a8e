"""FID, KID and IS from torchmetrics, fed with features computed once for all of them.

torchmetrics runs its `feature` module inside `update`; here that module is the identity
over features that one shared pass of the extractor has already computed, so generating and
embedding 10,000 samples happens once per evaluation, not once per metric.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor, nn
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.inception import InceptionScore
from torchmetrics.image.kid import KernelInceptionDistance


class PrecomputedFeatures(nn.Module):
    """The identity, declaring the feature size so torchmetrics does not probe it."""

    def __init__(self, num_features: int):
        super().__init__()
        self.num_features = num_features

    def forward(self, features: Tensor) -> Tensor:
        return features


def all_finite(*tensors: Tensor) -> bool:
    return all(bool(torch.isfinite(tensor).all()) for tensor in tensors)


class FrechetDistance(FrechetInceptionDistance):
    """torchmetrics' FID, but NaN, not a crash, when the features are not finite.

    LAPACK's eigenvalue routine can kill the process on a matrix with NaN or inf in it (MKL's
    DGEBAL, at 128 features and up); a generator that went NaN has no distance to report.
    `compute` runs after the states are summed across ranks, so every rank decides alike.
    """

    def compute(self) -> Tensor:
        sums = (self.real_features_sum, self.real_features_cov_sum)
        sums += (self.fake_features_sum, self.fake_features_cov_sum)
        if not all_finite(*sums):
            return torch.tensor(float("nan"), dtype=self.orig_dtype)
        return super().compute()


def frechet_distance_metric(num_features: int) -> FrechetDistance:
    """FID whose real statistics survive `reset()` (they are added once, from the cache)."""
    return FrechetDistance(feature=PrecomputedFeatures(num_features), reset_real_features=False)


def kernel_distance_metric(
    num_features: int, subsets: int = 100, subset_size: int = 1000
) -> KernelInceptionDistance:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*will save all extracted features.*")
        return KernelInceptionDistance(
            feature=PrecomputedFeatures(num_features),
            subsets=subsets,
            subset_size=subset_size,
            reset_real_features=False,
        )


def inception_score_metric(num_classes: int, splits: int = 10) -> InceptionScore:
    """IS over the logits of whichever classifier gives them (Inception or the domain one)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*will save all extracted features.*")
        return InceptionScore(feature=PrecomputedFeatures(num_classes), splits=splits)


def frechet_distance(real: Tensor, fake: Tensor) -> float:
    """FID between two feature sets (N, d), through the same torchmetrics code as training."""
    metric = frechet_distance_metric(real.shape[1])
    metric.update(real.double(), real=True)
    metric.update(fake.double(), real=False)
    return float(metric.compute())


def seeded_compute(metric, seed: int):
    """KID and IS draw random subsets in `compute`: seed them, and leave the run's RNG alone."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return metric.compute()
