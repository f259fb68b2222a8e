"""The probability losses of Goodfellow et al. 2014: minimax and non-saturating.

Both discriminators minimise the binary cross-entropy of real vs. fake, written on logits
with softplus (-log σ(l) = sp(-l), -log(1 - σ(l)) = sp(l)), which is exact and stable at any
logit and under autocast.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from ganarena.losses.base import GANLoss


def binary_cross_entropy_discriminator_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """E sp(-D(x)) + E sp(D(G(z))): D's cross-entropy for labelling reals 1 and fakes 0."""
    return F.softplus(-real_scores).mean() + F.softplus(fake_scores).mean()


class Minimax(GANLoss):
    """The original zero-sum game: G minimises E log(1 - σ(D(G(z)))) = -E sp(D(G(z))).

    Its gradient dL_G/df = -σ(f) vanishes exactly when D confidently rejects the fakes,
    which is why it saturates early in training.
    """

    scores_are_logits = True
    bce_family = True

    def discriminator_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return binary_cross_entropy_discriminator_loss(real_scores, fake_scores)

    def generator_loss(self, fake_scores: Tensor, real_scores: Tensor | None = None) -> Tensor:
        return -F.softplus(fake_scores).mean()


class NonSaturating(GANLoss):
    """The practical default: G minimises E sp(-D(G(z))) = -E log σ(D(G(z))).

    Same fixed point as minimax, but the gradient -(1 - σ(f)) is largest when D rejects the
    fakes, so G keeps learning when it is poor. With a penalty it is also DRAGAN (perturbed
    gradient penalty) and the R1-regularised GAN: those presets compose this class.
    """

    scores_are_logits = True
    bce_family = True

    def discriminator_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return binary_cross_entropy_discriminator_loss(real_scores, fake_scores)

    def generator_loss(self, fake_scores: Tensor, real_scores: Tensor | None = None) -> Tensor:
        return F.softplus(-fake_scores).mean()
