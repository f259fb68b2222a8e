"""Constraints: parts applied to the discriminator after each of its optimizer steps."""

from __future__ import annotations

import torch
from torch import nn

from ganarena.errors import GanArenaError
from ganarena.losses.base import Constraint
from ganarena.options import require_positive


class WeightClipping(Constraint):
    """WGAN's Lipschitz constraint (Arjovsky et al. 2017): clamp every D weight to [-c, c].

    Crude (it biases the critic towards very simple functions, which is why WGAN-GP replaced
    it) but it is the original recipe: with c = 0.01 the critic stays K-Lipschitz for some K.
    """

    def __init__(self, clip_value: float = 0.01) -> None:
        self.clip_value = require_positive("WeightClipping clip_value", clip_value, 0.01)

    @torch.no_grad()
    def __call__(self, discriminator: nn.Module) -> None:
        for parameter in discriminator.parameters():
            parameter.clamp_(-self.clip_value, self.clip_value)

    def check_compatible(self, discriminator: nn.Module) -> None:
        if getattr(discriminator, "normalization", None) == "spectral":
            raise GanArenaError(
                "weight clipping and spectral normalisation both bound D's Lipschitz constant, "
                "and clipping the raw weights fights the normalisation: use one, e.g. "
                "model.discriminator.normalization=none (or loss=hinge with spectral norm)"
            )

    def __repr__(self) -> str:
        return f"WeightClipping(clip_value={self.clip_value})"
