"""Class coverage through a classifier: the classic mode-collapse measure on digits.

Classes produced: classes predicted for at least `min_count` generated samples. KL: the
divergence KL(q || p) of the generated class histogram q from the data's histogram p, both
as the classifier predicts them, so that classifier errors weigh on both sides alike.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torchmetrics import Metric


def class_histogram(logits: Tensor, num_classes: int) -> Tensor:
    return torch.bincount(logits.argmax(dim=1), minlength=num_classes).double()


def kl_from_reference(counts: Tensor, reference: Tensor) -> float:
    """KL(q || p) of normalised counts q from reference p; inf if q has mass where p has none."""
    q = counts.double() / counts.sum()
    p = reference.double().to(q.device) / reference.sum()
    mask = q > 0
    if (p[mask] == 0).any():
        return math.inf
    return float((q[mask] * (q[mask] / p[mask]).log()).sum())


class ClassCoverage(Metric):
    """Predicted-class counts of generated samples, summed over ranks on `compute`."""

    full_state_update = False

    def __init__(self, num_classes: int, min_count: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.min_count = min_count
        self.reference: Tensor | None = None
        self.add_state("counts", torch.zeros(num_classes, dtype=torch.float64), "sum")

    def set_reference(self, real_logits: Tensor) -> None:
        self.reference = class_histogram(real_logits, self.num_classes)

    def set_uniform_reference(self) -> None:
        """Measure KL from uniform (every class equally likely), as the Stacked MNIST papers do."""
        self.reference = torch.ones(self.num_classes, dtype=torch.float64)

    def update(self, logits: Tensor) -> None:
        self.counts += class_histogram(logits, self.num_classes).to(self.counts.device)

    def compute(self) -> tuple[Tensor, Tensor]:
        assert self.reference is not None, "call set_reference first"
        covered = (self.counts >= self.min_count).sum()
        return covered.float(), torch.tensor(kl_from_reference(self.counts, self.reference))
