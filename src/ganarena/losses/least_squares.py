"""The least-squares GAN (Mao et al. 2017): D regresses scores to targets, G pulls fakes to 1."""

from __future__ import annotations

from torch import Tensor

from ganarena.losses.base import GANLoss


class LeastSquares(GANLoss):
    """LSGAN with the paper's targets a, b, c = 0, 1, 1 on RAW scores (never on σ(score)).

    D: E (r - 1)² + E f²; G: E (f - 1)². The sigmoid cross-entropy gives no gradient to fakes
    that D already classifies correctly but that lie far from the reals; the squared error
    does (dL_G/df = 2(f - 1)/N grows with the distance to the target), which is what LSGAN
    fixes. The scores are regression outputs, not logits.
    """

    scores_are_logits = False
    bce_family = False

    def discriminator_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return (real_scores - 1).pow(2).mean() + fake_scores.pow(2).mean()

    def generator_loss(self, fake_scores: Tensor, real_scores: Tensor | None = None) -> Tensor:
        return (fake_scores - 1).pow(2).mean()
