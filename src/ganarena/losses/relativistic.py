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
