"""Per-class FID for conditional GANs, and their mean: the intra-FID of Miyato & Koyama 2018.

Unconditional FID cannot see a conditional generator that draws a good 3 when asked for a 7:
the pooled feature distribution is still right. Per-class FID compares, for every class c,
the features of the samples generated for c with those of the real samples labelled c.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torchmetrics import Metric

from ganarena.metrics.distances import all_finite


def frechet_from_moments(mu1: Tensor, sigma1: Tensor, mu2: Tensor, sigma2: Tensor) -> Tensor:
    """‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁Σ₂)^½), the formula torchmetrics' FID uses; NaN for
    moments that are not finite (LAPACK can crash on them: see `FrechetDistance`)."""
    if not all_finite(mu1, sigma1, mu2, sigma2):
        return torch.tensor(float("nan"), dtype=mu1.dtype, device=mu1.device)
    trace_sqrt = torch.linalg.eigvals(sigma1 @ sigma2).sqrt().real.sum()
    return (mu1 - mu2).square().sum() + sigma1.trace() + sigma2.trace() - 2 * trace_sqrt


def class_moments(features: Tensor, labels: Tensor, num_classes: int) -> list[tuple | None]:
    """(mean, covariance) of each class's features; None for a class with under 2 samples."""
    moments: list[tuple | None] = []
    for c in range(num_classes):
        members = features[labels == c].double()
        moments.append((members.mean(0), members.T.cov()) if len(members) > 1 else None)
    return moments


class ClassConditionalFID(Metric):
    """FID per class between generated features (summed over ranks) and fixed real features.

    The generated side keeps sums, not samples, so its state is (classes, d, d) whatever the
    sample count, and DDP sums it on `compute`. Every rank holds the same real statistics.
    `compute` returns the (classes,) FIDs, NaN where a class has under 2 samples on a side.
    """

    full_state_update = False

    def __init__(self, num_classes: int, num_features: int, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.real: list[tuple | None] | None = None
        d, c = num_features, num_classes
        self.add_state("count", torch.zeros(c, dtype=torch.float64), "sum")
        self.add_state("total", torch.zeros(c, d, dtype=torch.float64), "sum")
        self.add_state("outer", torch.zeros(c, d, d, dtype=torch.float64), "sum")

    def set_real(self, features: Tensor, labels: Tensor) -> None:
        self.real = class_moments(features, labels.to(features.device), self.num_classes)

    def update(self, features: Tensor, labels: Tensor) -> None:
        features, labels = features.double(), labels.to(features.device)
        self.count.index_add_(0, labels, torch.ones_like(labels, dtype=torch.float64))
        self.total.index_add_(0, labels, features)
        for c in labels.unique().tolist():  # one (d, d) product per class, never (N, d, d)
            members = features[labels == c]
            self.outer[c] += members.T @ members

    def compute(self) -> Tensor:
        assert self.real is not None, "call set_real first"
        fids = torch.full((self.num_classes,), float("nan"), dtype=torch.float64)
        for c, real in enumerate(self.real):
            n = self.count[c]
            if real is None or n < 2:
                continue
            mean = self.total[c] / n
            cov = (self.outer[c] - n * torch.outer(mean, mean)) / (n - 1)
            real_mean, real_cov = (moment.to(mean.device) for moment in real)
            fids[c] = frechet_from_moments(mean, cov, real_mean, real_cov)
        return fids
