"""The loss strategy interface: everything the training loop needs to know about a GAN loss.

The LightningModule never branches on a loss's name. It asks the loss object for the two
scalars to minimise, for the penalty and constraints that go with the discriminator step,
and for any state the loss keeps. A new loss is one subclass plus one YAML file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from ganarena.errors import GanArenaError

#: The discriminator as a function of its input alone (labels, if any, already bound).
Critic = Callable[[Tensor], Tensor]


class Penalty(nn.Module):
    """A regulariser added to the discriminator loss, e.g. a gradient penalty.

    Subclasses return the penalty already multiplied by its weight, so that the loop only
    adds it. `check_compatible` is called once before training.
    """

    def forward(self, critic: Critic, real: Tensor, fake: Tensor) -> Tensor:
        raise NotImplementedError

    def check_compatible(self, discriminator: nn.Module) -> None:
        """Raise or warn when this penalty does not fit the discriminator."""


class Constraint:
    """Something done to the discriminator after each of its optimizer steps (weight clipping)."""

    def __call__(self, discriminator: nn.Module) -> None:
        raise NotImplementedError

    def check_compatible(self, discriminator: nn.Module) -> None:
        """Raise or warn when this constraint does not fit the discriminator."""


class GANLoss(nn.Module):
    """A GAN objective as a strategy object.

    Scores are the discriminator's RAW outputs, one per sample: logits for the probability
    losses, critic values for the Wasserstein family. Both losses are quantities to minimise.

    Class attributes describe the loss to the loop and to the diagnostics:
    - ``scores_are_logits``: scores can be read as probabilities through a sigmoid;
    - ``generator_needs_real_scores``: the generator loss uses D(x) too (relativistic losses),
      so the loop scores a real batch during the generator step.

    The loss is an ``nn.Module`` so that state kept in buffers (BEGAN's k_t) is saved in
    checkpoints and restored on resume.
    """

    scores_are_logits: bool = True
    generator_needs_real_scores: bool = False

    def __init__(
        self,
        n_critic: int = 1,
        penalties: Sequence[Penalty] = (),
        constraints: Sequence[Constraint] = (),
    ) -> None:
        super().__init__()
        if n_critic < 1:
            raise GanArenaError(f"loss.n_critic must be at least 1, got {n_critic}")
        self.n_critic = n_critic
        self.penalties = nn.ModuleList(penalties)
        self.constraints = list(constraints)

    def discriminator_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        """The scalar D minimises, from D(x) and D(G(z))."""
        raise NotImplementedError

    def generator_loss(self, fake_scores: Tensor, real_scores: Tensor | None = None) -> Tensor:
        """The scalar G minimises, from D(G(z)) (and D(x) where `generator_needs_real_scores`)."""
        raise NotImplementedError

    def penalty(self, critic: Critic, real: Tensor, fake: Tensor) -> Tensor | None:
        """The sum of the weighted penalties, or None when the loss has none."""
        if not self.penalties:
            return None
        return torch.stack([penalty(critic, real, fake) for penalty in self.penalties]).sum()

    def after_discriminator_step(self, discriminator: nn.Module) -> None:
        """Apply the constraints (e.g. weight clipping) after each D optimizer step."""
        for constraint in self.constraints:
            constraint(discriminator)

    def update_state(self, real_scores: Tensor, fake_scores: Tensor) -> None:
        """Update state kept from batch statistics after a D step (BEGAN's k_t); none here."""

    def log_values(self) -> dict[str, Tensor]:
        """Extra figures worth logging (BEGAN's k_t and convergence measure); none here."""
        return {}

    def check_compatible(self, discriminator: nn.Module) -> None:
        """Stop before training when the discriminator cannot serve this loss."""
        for part in [*self.penalties, *self.constraints]:
            part.check_compatible(discriminator)
