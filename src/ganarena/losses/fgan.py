"""The f-GAN family (Nowozin et al. 2016): variational estimates of an f-divergence.

D's raw score v goes through an output activation g(v) that keeps it in the domain of the
conjugate f*; D maximises E g(v(x)) - E f*(g(v(G(z)))), a lower bound of the divergence, and
G minimises -E g(v(G(z))), the practical generator loss of the paper (§3.2). Each composition
f*(g(v)) is written in closed form (Table 2 of the paper, simplified), and the exponentials go
through `guarded_exp`, so losses and gradients stay finite, and gradients nonzero and of the
right sign, at any score.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from ganarena.errors import GanArenaError
from ganarena.losses.base import GANLoss

#: Beyond ±this, exp() continues without overflow (e^50 ≈ 5e21 leaves float32 room to spare).
EXP_GUARD = 50.0


def guarded_exp(v: Tensor) -> Tensor:
    """exp(v) on [-G, G]; past +G the tangent line e^G·(1 + v - G), past -G the positive,
    decreasing e^-G / (1 + (-G - v)). Value and slope are continuous at ±G, the value is finite
    and the slope positive at any score, so no score gets a dead (zero) gradient or an
    infinite one: a critic that scores a fake at 60 still gets pushed down, by e^50 instead of
    e^60 (a clamp, as before, gave it no push at all)."""
    # where, not clamp: clamp passes no gradient AT ±G, where keeps exp's own slope there
    inside = torch.exp(torch.where(v.abs() <= EXP_GUARD, v, v.sign() * EXP_GUARD))
    return inside * (1 + F.relu(v - EXP_GUARD)) / (1 + F.relu(-EXP_GUARD - v))


class Divergence(NamedTuple):
    """g(v), the output activation, and f*(g(v)), the conjugate at it."""

    activation: Callable[[Tensor], Tensor]
    conjugate: Callable[[Tensor], Tensor]


DIVERGENCES: dict[str, Divergence] = {
    # KL: g(v) = v, f*(t) = exp(t - 1)
    "kl": Divergence(lambda v: v, lambda v: guarded_exp(v - 1)),
    # reverse KL: g(v) = -exp(-v), f*(t) = -1 - log(-t), so f*(g(v)) = v - 1
    "reverse_kl": Divergence(lambda v: -guarded_exp(-v), lambda v: v - 1),
    # Pearson χ²: g(v) = v, f*(t) = t²/4 + t
    "pearson": Divergence(lambda v: v, lambda v: v.pow(2) / 4 + v),
    # squared Hellinger: g(v) = 1 - exp(-v), f*(t) = t / (1 - t), so f*(g(v)) = exp(v) - 1
    "hellinger": Divergence(lambda v: 1 - guarded_exp(-v), lambda v: guarded_exp(v) - 1),
    # Jensen-Shannon: g(v) = log 2 - sp(-v), f*(t) = -log(2 - exp(t)), so f*(g(v)) = sp(v) - log 2
    "js": Divergence(lambda v: math.log(2) - F.softplus(-v), lambda v: F.softplus(v) - math.log(2)),
}


class FDivergence(GANLoss):
    """f-GAN: D: -(E g(r) - E f*(g(f))); G: -E g(f), for one f-divergence by name.

    `divergence`: kl | reverse_kl | pearson | hellinger | js. The scores are raw values v,
    not logits of a probability (except that for js, g(v) = log 2 + log σ(v)).
    """

    scores_are_logits = False

    def __init__(self, divergence: str = "js", **parts) -> None:
        super().__init__(**parts)
        if divergence not in DIVERGENCES:
            raise GanArenaError(
                f"loss.divergence={divergence!r} is not an f-divergence here: choose one of "
                f"{', '.join(DIVERGENCES)}"
            )
        self.divergence = divergence
        self.functions = DIVERGENCES[divergence]

    def discriminator_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        estimate = self.functions.activation(real_scores).mean()
        return -(estimate - self.functions.conjugate(fake_scores).mean())

    def generator_loss(self, fake_scores: Tensor, real_scores: Tensor | None = None) -> Tensor:
        return -self.functions.activation(fake_scores).mean()

    def extra_repr(self) -> str:
        return f"divergence={self.divergence}"
