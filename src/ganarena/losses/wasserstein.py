"""The Wasserstein GAN (Arjovsky et al. 2017): a critic estimates the Earth-Mover distance."""

from __future__ import annotations

import warnings

from torch import Tensor, nn

from ganarena.losses.base import GANLoss


class Wasserstein(GANLoss):
    """Critic: E D(G(z)) - E D(x); generator: -E D(G(z)).

    Every sample gets the same weight in both gradients (dL/df = ±1/N), so G never gets the
    vanishing gradient of a saturated sigmoid. The price: the critic must be kept Lipschitz,
    or its scores grow without bound. That is a part, not this class: weight clipping
    (`loss=wgan`), a gradient penalty (`loss=wgan_gp`, `loss=wgan_lp`) or spectral
    normalisation of D (`model.discriminator.normalization=spectral`).
    """

    scores_are_logits = False
    bce_family = False

    def discriminator_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return fake_scores.mean() - real_scores.mean()

    def generator_loss(self, fake_scores: Tensor, real_scores: Tensor | None = None) -> Tensor:
        return -fake_scores.mean()

    def check_compatible(self, discriminator: nn.Module) -> None:
        super().check_compatible(discriminator)
        constrained = getattr(discriminator, "normalization", None) == "spectral"
        if not (self.penalties or self.constraints or constrained):
            warnings.warn(
                "the Wasserstein critic has no Lipschitz constraint, so its scores can grow "
                "without bound: use loss=wgan_gp or loss=wgan, or set "
                "model.discriminator.normalization=spectral",
                UserWarning,
                stacklevel=2,
            )
