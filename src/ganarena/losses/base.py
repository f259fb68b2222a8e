"""The loss strategy interface: everything the training loop needs to know about a GAN loss.

The LightningModule never branches on a loss's name. It asks the loss object for the two
scalars to minimise, for the penalty and constraints that go with the discriminator step,
and for any state the loss keeps. A new loss is one subclass plus one YAML file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from ganarena.options import require_positive_int

#: The discriminator as a function of its input alone (labels, if any, already bound).
Critic = Callable[[Tensor], Tensor]
#: One D step's scores of the real and the fake batch, (D(x), D(G(z))).
Scores = tuple[Tensor, Tensor]


@dataclass(frozen=True)
class Latents:
    """The noise a batch of fakes came from and the generator that made them (labels
    bound), for penalties that perturb z (latent consistency, zCR)."""

    noise: Tensor
    generate: Callable[[Tensor], Tensor]


class Penalty(nn.Module):
    """A regulariser added to the discriminator loss, e.g. a gradient penalty.

    Subclasses return the penalty already multiplied by its weight, so that the loop only
    adds it. `check_compatible` is called once before training.
    """

    def forward(self, critic: Critic, real: Tensor, fake: Tensor) -> Tensor:
        raise NotImplementedError

    def penalize(
        self,
        critic: Critic,
        real: Tensor,
        fake: Tensor,
        scores: Scores | None,
        latents: Latents | None = None,
    ) -> Tensor:
        """The weighted penalty of one D step; `scores` are that step's D(x) and D(G(z)), for
        penalties on the scores themselves (LeCam), `latents` the fakes' noise and generator
        (zCR). Most penalties only need the critic."""
        return self(critic, real, fake)

    def penalize_generator(self, fake: Tensor, latents: Latents) -> Tensor | None:
        """The weighted term this part adds to G's loss in the G step, or None (most parts
        regularise D only; zCR has a G term too)."""
        return None

    @staticmethod
    def scores_of(critic: Critic, real: Tensor, fake: Tensor, scores: Scores | None) -> Scores:
        """The step's scores when the loop passed them, else the critic's of both batches."""
        return scores if scores is not None else (critic(real), critic(fake))

    def check_compatible(self, discriminator: nn.Module) -> None:
        """Raise or warn when this penalty does not fit the discriminator."""

    def check_loss(self, loss: GANLoss) -> None:
        """Raise when this penalty does not fit the loss (LeCam on reconstruction errors)."""


class Constraint:
    """Something done to the discriminator after each of its optimizer steps (weight clipping)."""

    def __call__(self, discriminator: nn.Module) -> None:
        raise NotImplementedError

    def check_compatible(self, discriminator: nn.Module) -> None:
        """Raise or warn when this constraint does not fit the discriminator."""


#: Penalties or constraints: a list, or a mapping from a name to a part (None = left out).
PenaltyParts = Iterable[Penalty | None] | Mapping[str, Penalty | None]
ConstraintParts = Iterable[Constraint | None] | Mapping[str, Constraint | None]


def _parts(parts: PenaltyParts | ConstraintParts | None) -> list[Any]:
    """The parts in order, whether given as a list or by name; None entries left out."""
    if parts is None:
        return []
    values = parts.values() if isinstance(parts, Mapping) else parts
    return [part for part in values if part is not None]


class GANLoss(nn.Module):
    """A GAN objective as a strategy object.

    Scores are the discriminator's RAW outputs, one per sample: logits for the probability
    losses, critic values for the Wasserstein family. Both losses are quantities to minimise.

    Class attributes describe the loss to the loop and to the diagnostics:
    - ``scores_are_logits``: scores are logits of the probability that a sample is real, so
      σ(score) means something (False for critics, regressors and reconstruction errors);
    - ``bce_family``: D minimises the binary cross-entropy E sp(-r) + E sp(f), so the total
      loss L_D + L_G(non-saturating) is a meaningful single number (both terms >= 0);
    - ``generator_needs_real_scores``: the generator loss uses D(x) too (relativistic losses),
      so the loop scores a real batch during the generator step;
    - ``reals_score_higher``: D gives reals higher scores than fakes (False for BEGAN, whose
      scores are reconstruction errors), which score regularisers such as LeCam assume.

    Penalties and constraints are parts, not subclasses: any loss takes any of them. Each
    may be given as a list or as a mapping from a name to a part (how the presets write
    them, so that one can be added, changed or removed by name from the command line);
    entries that are None are skipped.

    The loss is an ``nn.Module`` so that state kept in buffers (BEGAN's k_t) is saved in
    checkpoints and restored on resume.
    """

    scores_are_logits: bool = True
    bce_family: bool = False
    generator_needs_real_scores: bool = False
    reals_score_higher: bool = True

    def __init__(
        self,
        n_critic: int = 1,
        penalties: PenaltyParts | None = (),
        constraints: ConstraintParts | None = (),
    ) -> None:
        super().__init__()
        self.n_critic = require_positive_int("loss.n_critic", n_critic, 1)
        self.penalties = nn.ModuleList(_parts(penalties))
        self.constraints = list(_parts(constraints))

    def discriminator_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        """The scalar D minimises, from D(x) and D(G(z))."""
        raise NotImplementedError

    def generator_loss(self, fake_scores: Tensor, real_scores: Tensor | None = None) -> Tensor:
        """The scalar G minimises, from D(G(z)) (and D(x) where `generator_needs_real_scores`)."""
        raise NotImplementedError

    def penalty(
        self,
        critic: Critic,
        real: Tensor,
        fake: Tensor,
        scores: Scores | None = None,
        latents: Latents | None = None,
    ) -> Tensor | None:
        """The sum of the weighted penalties, or None when the loss has none.

        `scores` (this step's D(x), D(G(z))) serve the penalties on scores (without them
        those score the batches again); `latents` those that perturb the fakes' noise."""
        if not self.penalties:
            return None
        values = [
            penalty.penalize(critic, real, fake, scores, latents) for penalty in self.penalties
        ]
        return torch.stack(values).sum()

    def generator_penalty(self, fake: Tensor, latents: Latents) -> Tensor | None:
        """The sum of the parts' terms for G's loss (zCR's), or None when no part has one."""
        values = [penalty.penalize_generator(fake, latents) for penalty in self.penalties]
        values = [value for value in values if value is not None]
        return torch.stack(values).sum() if values else None

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
        for penalty in self.penalties:
            penalty.check_loss(self)
