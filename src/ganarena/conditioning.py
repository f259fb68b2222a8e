"""Conditioning as its own axis: how labels flow through a training step, for any loss.

The networks do the label arithmetic (see `ganarena.networks.conditioning`); this object
tells the training loop whether labels are used, which labels the fakes get, and, for
AC-GAN, the auxiliary classification terms added on top of whichever adversarial loss runs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ganarena.errors import GanArenaError
from ganarena.networks.conditioning import CONDITIONINGS
from ganarena.options import require_choice, require_non_negative


class Conditioning:
    """How labels enter a training step.

    `method` is one of none, concat, projection, acgan; `aux_weight` scales AC-GAN's terms.
    `num_classes` is the data's class count: the run passes it from the data module (as the
    networks get their data shape), never from a second setting that could disagree. It is
    kept only when the method uses labels.
    """

    def __init__(
        self, method: str = "none", aux_weight: float = 1.0, num_classes: int | None = None
    ) -> None:
        self.method = require_choice("conditioning.method", method, CONDITIONINGS)
        self.aux_weight = require_non_negative("conditioning.aux_weight", aux_weight, 1.0)
        if self.uses_labels and not num_classes:
            raise GanArenaError(
                f"conditioning={method} needs labelled data, but this data set has no labels: "
                "use conditioning=none or a labelled data set"
            )
        self.num_classes = num_classes if self.uses_labels else None

    @property
    def uses_labels(self) -> bool:
        return self.method != "none"

    @property
    def auxiliary_classifier(self) -> bool:
        return self.method == "acgan"

    def real_labels(self, labels: Tensor) -> Tensor | None:
        return labels if self.uses_labels else None

    def random_labels(self, count: int, device: torch.device) -> Tensor | None:
        """Uniform class labels for the generator step (None when unconditional)."""
        if not self.uses_labels:
            return None
        assert self.num_classes is not None
        return torch.randint(self.num_classes, (count,), device=device)

    def classification_loss(self, logits: Tensor, labels: Tensor) -> Tensor:
        """AC-GAN's auxiliary term: weighted cross-entropy of the class head."""
        return self.aux_weight * F.cross_entropy(logits, labels)


def check_label_range(labels: Tensor, num_classes: int) -> None:
    """One line when a data set's labels fall outside [0, num_classes)."""
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= num_classes:
        raise GanArenaError(
            f"labels must lie in [0, {num_classes}) but range over [{low}, {high}]: "
            "fix the labels of the data set, or use conditioning=none"
        )
