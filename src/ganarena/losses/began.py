"""BEGAN (Berthelot et al. 2017): an autoencoder D and an equilibrium kept by a controller.

The discriminator is an autoencoder and its "score" for a sample is e(x), the per-sample
mean absolute reconstruction error (`ganarena.networks.AutoencoderDiscriminator` returns it).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ganarena.errors import GanArenaError
from ganarena.losses.base import ConstraintParts, GANLoss, PenaltyParts
from ganarena.options import require_fraction, require_non_negative
from ganarena.ranks import mean_across_ranks

AUTOENCODER = "ganarena.networks.AutoencoderDiscriminator"


class BEGAN(GANLoss):
    """D: E e(x) - k_t E e(G(z)); G: E e(G(z)); k_t balances the two.

    D learns to reconstruct reals and to fail on fakes; G makes fakes D reconstructs well.
    The Wasserstein-like lower bound is kept stable by a proportional controller instead of a
    Lipschitz constraint: k_{t+1} = clamp(k_t + λ_k (γ E e(x) - E e(G(z))), 0, 1), k_0 = 0,
    holds E e(G(z)) ≈ γ E e(x) (γ trades diversity, high γ, for quality, low γ). k_t is a
    buffer, so it is saved in checkpoints; its batch statistics are averaged over DDP ranks so
    that every rank keeps the same k_t. M = E e(x) + |γ E e(x) - E e(G(z))| is the paper's
    convergence measure. Both are logged (`train/k_t`, `train/convergence`).
    """

    scores_are_logits = False
    reals_score_higher = False  # scores are reconstruction errors: low for reals
    bce_family = False

    def __init__(
        self,
        gamma: float = 0.75,
        lambda_k: float = 1e-3,
        k_init: float = 0.0,
        n_critic: int = 1,
        penalties: PenaltyParts | None = (),
        constraints: ConstraintParts | None = (),
    ) -> None:
        super().__init__(n_critic=n_critic, penalties=penalties, constraints=constraints)
        self.gamma = require_fraction("BEGAN gamma", gamma, 0.75)
        self.lambda_k = require_non_negative("BEGAN lambda_k", lambda_k, 1e-3)
        self.register_buffer("k", torch.tensor(require_fraction("BEGAN k_init", k_init, 0.0)))
        self.register_buffer("convergence", torch.tensor(0.0))

    def discriminator_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return real_scores.mean() - self.k * fake_scores.mean()

    def generator_loss(self, fake_scores: Tensor, real_scores: Tensor | None = None) -> Tensor:
        return fake_scores.mean()

    @torch.no_grad()
    def update_state(self, real_scores: Tensor, fake_scores: Tensor) -> None:
        stats = torch.stack([real_scores.mean(), fake_scores.mean()]).float()
        real_error, fake_error = mean_across_ranks(stats)
        balance = self.gamma * real_error - fake_error
        self.k.copy_((self.k + self.lambda_k * balance).clamp(0.0, 1.0))
        self.convergence.copy_(real_error + balance.abs())

    def log_values(self) -> dict[str, Tensor]:
        return {"k_t": self.k.detach().clone(), "convergence": self.convergence.detach().clone()}

    def check_compatible(self, discriminator: nn.Module) -> None:
        if not getattr(discriminator, "is_autoencoder", False):
            raise GanArenaError(
                f"loss=began needs an autoencoder discriminator, not "
                f"{type(discriminator).__name__}: drop the model.discriminator override or set "
                f"model/discriminator=autoencoder ({AUTOENCODER})"
            )
        super().check_compatible(discriminator)

    def extra_repr(self) -> str:
        return f"gamma={self.gamma}, lambda_k={self.lambda_k}, k={self.k.item():.4g}"
