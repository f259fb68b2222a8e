"""The relativistic average GAN (RaGAN, Jolicoeur-Martineau 2018)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from ganarena.losses.base import GANLoss


def relativistic_average_loss(winners: Tensor, losers: Tensor) -> Tensor:
    """E sp(-(w - E l)) + E sp(l - E w): `winners` should score above the average loser."""
    winners_above = F.softplus(-(winners - losers.mean())).mean()
    return winners_above + F.softplus(losers - winners.mean()).mean()


class RelativisticAverage(GANLoss):
    """D: E sp(-(r - E f)) + E sp(f - E r); G: E sp(-(f - E r)) + E sp(r - E f).

    D estimates the probability that a real sample is more realistic than the average fake,
    instead of that it is real. G's loss is the same with the roles swapped, so G also
    lowers D's confidence in the reals: half of its gradient comes from the real batch,
    which the standard GAN ignores. The generator therefore needs D(x) too
    (`generator_needs_real_scores`). The scores are logits of those relative probabilities.
    """

    scores_are_logits = True
    bce_family = False
    generator_needs_real_scores = True

    def discriminator_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return relativistic_average_loss(real_scores, fake_scores)

    def generator_loss(self, fake_scores: Tensor, real_scores: Tensor | None = None) -> Tensor:
        if real_scores is None:
            raise ValueError("RelativisticAverage.generator_loss needs the real scores")
        return relativistic_average_loss(fake_scores, real_scores)


def relativistic_pairing_loss(winners: Tensor, losers: Tensor) -> Tensor:
    """E sp(-(w_i - l_i)): each winner should score above the loser of the same index."""
    if winners.shape != losers.shape:
        raise ValueError(
            "relativistic pairing pairs each real with one fake, but the scores have shapes "
            f"{tuple(winners.shape)} and {tuple(losers.shape)}: give G's batch the size of D's"
        )
    return F.softplus(-(winners - losers)).mean()


class RelativisticPairing(GANLoss):
    """RpGAN: D: E sp(-(r_i - f_i)); G: E sp(-(f_i - r_i)) (Huang et al. 2024, R3GAN).

    Each real is paired with the fake of the same index, and D judges which of the two is the
    more realistic. Unlike RaGAN's batch means, the loss of a pair does not depend on the
    rest of the batch, which Huang et al. show removes the mode-dropping optima of the
    standard loss; with R1 and R2 it is locally convergent (`loss=r3gan`).
    """

    scores_are_logits = True
    generator_needs_real_scores = True

    def discriminator_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return relativistic_pairing_loss(real_scores, fake_scores)

    def generator_loss(self, fake_scores: Tensor, real_scores: Tensor | None = None) -> Tensor:
        if real_scores is None:
            raise ValueError("RelativisticPairing.generator_loss needs the real scores")
        return relativistic_pairing_loss(fake_scores, real_scores)


def relativistic_average_hinge_loss(winners: Tensor, losers: Tensor) -> Tensor:
    """E relu(1 - (w - E l)) + E relu(1 + (l - E w))."""
    winners_above = F.relu(1 - (winners - losers.mean())).mean()
    return winners_above + F.relu(1 + (losers - winners.mean())).mean()


class RelativisticAverageHinge(GANLoss):
    """RaHinge: D: E relu(1 - (r - E f)) + E relu(1 + (f - E r)); G: the same, roles swapped.

    The hinge loss on RaGAN's relative scores (Jolicoeur-Martineau 2018, §4.3): D wants each
    real a margin of 1 above the average fake and each fake 1 below the average real.
    """

    scores_are_logits = False
    generator_needs_real_scores = True

    def discriminator_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return relativistic_average_hinge_loss(real_scores, fake_scores)

    def generator_loss(self, fake_scores: Tensor, real_scores: Tensor | None = None) -> Tensor:
        if real_scores is None:
            raise ValueError("RelativisticAverageHinge.generator_loss needs the real scores")
        return relativistic_average_hinge_loss(fake_scores, real_scores)
