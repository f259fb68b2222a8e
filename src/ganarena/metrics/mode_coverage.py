"""Mode coverage on Gaussian mixtures: the standard measure of mode collapse on toy data.

The protocol of VEEGAN and PacGAN: a generated point is *high quality* when it lies within
`threshold` standard deviations of its nearest mixture mean; a mode is *captured* when it is
the nearest mean of at least one high-quality point; the *reverse KL* compares the
histogram of high-quality points over the modes with the uniform distribution of the data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class ModeCoverage:
    modes_captured: int
    high_quality_fraction: float
    reverse_kl: float

    def as_dict(self, prefix: str = "") -> dict[str, float]:
        return {
            f"{prefix}modes_captured": float(self.modes_captured),
            f"{prefix}high_quality_fraction": self.high_quality_fraction,
            f"{prefix}reverse_kl": self.reverse_kl,
        }


def nearest_mode(samples: Tensor, means: Tensor) -> tuple[Tensor, Tensor]:
    """Index of and distance to the nearest mean, for each sample."""
    distances = torch.cdist(samples.float(), means.float().to(samples.device))
    distance, index = distances.min(dim=1)
    return index, distance


def mode_histogram(samples: Tensor, means: Tensor, std: float, threshold: float = 3.0) -> Tensor:
    """Counts of high-quality samples per mode (shape (K,))."""
    index, distance = nearest_mode(samples, means)
    good = distance <= threshold * std
    return torch.bincount(index[good], minlength=means.shape[0])


def reverse_kl_from_uniform(histogram: Tensor) -> float:
    """KL(q || uniform) for the normalised histogram q; inf when q is empty."""
    total = histogram.sum().item()
    if total == 0:
        return math.inf
    q = histogram.double() / total
    q = q[q > 0]
    return float((q * (q * histogram.numel()).log()).sum())


def mode_coverage(
    samples: Tensor, means: Tensor, std: float, threshold: float = 3.0
) -> ModeCoverage:
    """Modes captured, share of high-quality samples and reverse KL for `samples`."""
    histogram = mode_histogram(samples, means, std, threshold)
    return ModeCoverage(
        modes_captured=int((histogram > 0).sum()),
        high_quality_fraction=histogram.sum().item() / samples.shape[0],
        reverse_kl=reverse_kl_from_uniform(histogram),
    )
