"""Hinge losses (Lim & Ye 2017; Miyato et al. 2018; SAGAN; BigGAN): D is a margin classifier."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from ganarena.losses.base import GANLoss


def hinge_discriminator_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """E relu(1 - D(x)) + E relu(1 + D(G(z))): no gradient from samples past the margin ±1."""
    return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()


class Hinge(GANLoss):
    """D: E relu(1 - r) + E relu(1 + f); G: -E f (as in SAGAN and BigGAN).

    D stops pushing on a sample once it is classified with margin 1, so its scores stay
    bounded without a sigmoid; G's loss is the Wasserstein one, with a constant gradient
    -1/N for every fake. The scores are margins, not logits.
    """

    scores_are_logits = False
    bce_family = False

    def discriminator_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return hinge_discriminator_loss(real_scores, fake_scores)

    def generator_loss(self, fake_scores: Tensor, real_scores: Tensor | None = None) -> Tensor:
        return -fake_scores.mean()


class HingeNonSaturating(GANLoss):
    """D: the hinge loss; G: E relu(1 - f), the hinge loss D applies to reals.

    The non-saturating analogue of hinge: G's gradient is -1/N while a fake scores below 1
    and zero once D(G(z)) > 1, the same rule D uses for reals, so G stops pushing fakes that
    D already takes for real instead of driving their scores up without bound.
    """

    scores_are_logits = False
    bce_family = False

    def discriminator_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return hinge_discriminator_loss(real_scores, fake_scores)

    def generator_loss(self, fake_scores: Tensor, real_scores: Tensor | None = None) -> Tensor:
        return F.relu(1 - fake_scores).mean()
