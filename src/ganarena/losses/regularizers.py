"""Regularisers beyond the gradient penalties: LeCam, consistency (CR, bCR, zCR), and lazy
application.

Each is a `Penalty`, so any loss takes any of them (`+loss.penalties.NAME={...}`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganarena.errors import GanArenaError
from ganarena.losses.base import Critic, GANLoss, Latents, Penalty, Scores
from ganarena.options import require_non_negative
from ganarena.ranks import mean_across_ranks


class LeCam(Penalty):
    """LeCam regularisation (Tseng et al. 2021): λ (E relu(D(x) - α_F)² + E relu(α_R - D(G(z)))²).

    α_R and α_F are exponential moving averages of the batch means of D(x) and D(G(z)), with
    no gradient through them, updated before the penalty reads them. As in the reference code
    (google/lecam-gan, `ema_losses` and `GAN_training_function`, counting from 0), D step t
    tracks the batch means (decay 0) while t < `start_step` and the penalty applies once
    t > `start_step` (the reference counts training iterations; the same with n_critic = 1). The
    averages and the step count are buffers: checkpointed, restored on resume, and updated
    from batch means averaged over DDP ranks, so every rank holds the same values.
    """

    def __init__(self, weight: float = 0.3, decay: float = 0.99, start_step: int = 1000) -> None:
        super().__init__()
        self.weight = require_non_negative("LeCam weight", weight, 0.3)
        if not 0 <= decay < 1:
            raise GanArenaError(f"LeCam decay must lie in [0, 1), got {decay}: e.g. decay=0.99")
        self.decay = decay
        if not isinstance(start_step, int) or isinstance(start_step, bool) or start_step < 0:
            raise GanArenaError(f"LeCam start_step must be an integer >= 0, got {start_step!r}")
        self.start_step = start_step
        self.register_buffer("real_average", torch.zeros(()))
        self.register_buffer("fake_average", torch.zeros(()))
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))

    def penalize(
        self,
        critic: Critic,
        real: Tensor,
        fake: Tensor,
        scores: Scores | None,
        latents: Latents | None = None,
    ) -> Tensor:
        real_scores, fake_scores = self.scores_of(critic, real, fake, scores)
        applies = self.steps > self.start_step  # a tensor: no host sync
        self.update(real_scores.detach(), fake_scores.detach())
        value = F.relu(real_scores - self.fake_average).pow(2).mean()
        value = value + F.relu(self.real_average - fake_scores).pow(2).mean()
        return self.weight * applies.to(value.dtype) * value

    @torch.no_grad()
    def update(self, real_scores: Tensor, fake_scores: Tensor) -> None:
        means = mean_across_ranks(torch.stack([real_scores.mean(), fake_scores.mean()]))
        decay = torch.where(self.steps >= self.start_step, self.decay, 0.0).to(means.dtype)
        self.real_average.copy_(decay * self.real_average + (1 - decay) * means[0])
        self.fake_average.copy_(decay * self.fake_average + (1 - decay) * means[1])
        self.steps += 1

    def check_loss(self, loss: GANLoss) -> None:
        if not loss.reals_score_higher:
            raise GanArenaError(
                f"LeCam assumes D scores reals above fakes, but {type(loss).__name__}'s scores "
                "are reconstruction errors (low for reals): drop loss.penalties.lecam"
            )

    def extra_repr(self) -> str:
        return f"weight={self.weight}, decay={self.decay}, start_step={self.start_step}"


class Lazy(Penalty):
    """Any penalty applied every `every` D steps with its weight multiplied by `every`
    (lazy regularisation, StyleGAN2: Karras et al. 2020b, §4), so its mean effect is the same
    at a fraction of the cost. The step count is checkpointed (as the module's extra state, a
    Python int, so counting costs no device sync), so a resumed run keeps the rhythm."""

    def __init__(self, penalty: Penalty, every: int = 16) -> None:
        super().__init__()
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise GanArenaError(
                f"a lazy penalty's interval must be an integer of at least 1, got {every!r}: "
                "e.g. every=16 (StyleGAN2's R1), or 1 to apply it every step"
            )
        self.penalty = penalty
        self.every = every
        self.steps = 0

    def penalize(
        self,
        critic: Critic,
        real: Tensor,
        fake: Tensor,
        scores: Scores | None,
        latents: Latents | None = None,
    ) -> Tensor:
        due = self.steps % self.every == 0
        self.steps += 1
        if not due:
            return torch.zeros((), device=real.device, dtype=real.dtype)
        return self.every * self.penalty.penalize(critic, real, fake, scores, latents)

    def penalize_generator(self, fake: Tensor, latents: Latents) -> Tensor | None:
        """The wrapped part's G term, every G step: only D's penalty is lazy."""
        return self.penalty.penalize_generator(fake, latents)

    def get_extra_state(self) -> dict[str, int]:
        return {"steps": self.steps}

    def set_extra_state(self, state: dict[str, int]) -> None:
        self.steps = int(state["steps"])

    def check_compatible(self, discriminator: nn.Module) -> None:
        self.penalty.check_compatible(discriminator)

    def check_loss(self, loss: GANLoss) -> None:
        self.penalty.check_loss(loss)

    def extra_repr(self) -> str:
        return f"every={self.every}"


def random_flip(images: Tensor) -> Tensor:
    """Each image mirrored left-right with probability ½ (one U[0, 1) draw per image)."""
    flips = torch.rand(images.shape[0], 1, device=images.device) < 0.5
    return torch.where(flips[:, :, None, None], images.flip(3), images)


def random_translation(images: Tensor, fraction: float = 1 / 8) -> Tensor:
    """Each image shifted by whole pixels, up to int(fraction·H) rows and int(fraction·W)
    columns (each axis its own limit and draw), reflect-padded, as the CR reference does."""
    n, _, height, width = images.shape
    max_rows, max_cols = int(height * fraction), int(width * fraction)
    shape = (n, 1, 1)
    rows = torch.randint(-max_rows, max_rows + 1, shape, device=images.device)
    cols = torch.randint(-max_cols, max_cols + 1, shape, device=images.device)
    padded = F.pad(images, (max_cols, max_cols, max_rows, max_rows), mode="reflect")
    rows = rows + max_rows + torch.arange(height, device=images.device)[None, :, None]
    cols = cols + max_cols + torch.arange(width, device=images.device)[None, None, :]
    index = torch.arange(n, device=images.device)[:, None, None]
    return padded.permute(0, 2, 3, 1)[index, rows, cols].permute(0, 3, 1, 2)


def flip_and_translate(images: Tensor, fraction: float = 1 / 8, flip: bool = True) -> Tensor:
    """CR's transform (Zhang et al. 2020): a random horizontal flip, then a random integer
    translation of up to int(fraction·H) and int(fraction·W) pixels, reflect-padded, drawn per
    sample. The draws come in the order of PyTorch-StudioGAN's `apply_diffaug4cr`
    (src/utils/cr.py: flips, then rows, then columns), so the same seed gives the same images."""
    if flip:
        images = random_flip(images)
    return random_translation(images, fraction)


class Consistency(Penalty):
    """Consistency regularisation: λ_real E ‖D(x) - D(T(x))‖² (CR, Zhang et al. 2020) plus
    λ_fake E ‖D(G(z)) - D(T(G(z)))‖² (balanced CR, bCR, Zhao et al. 2021; `fake_weight` > 0).

    T is a random flip and translation (`flip_and_translate`); the scores of the
    untransformed batches are the D step's own. λ = 10 for both in the papers.
    """

    def __init__(
        self, real_weight: float = 10.0, fake_weight: float = 0.0, flip: bool = True
    ) -> None:
        super().__init__()
        self.real_weight = require_non_negative("Consistency real_weight", real_weight, 10.0)
        self.fake_weight = require_non_negative("Consistency fake_weight", fake_weight, 10.0)
        self.flip = flip

    def penalize(
        self,
        critic: Critic,
        real: Tensor,
        fake: Tensor,
        scores: Scores | None,
        latents: Latents | None = None,
    ) -> Tensor:
        real_scores, fake_scores = self.scores_of(critic, real, fake, scores)
        transformed = critic(flip_and_translate(real.detach(), flip=self.flip))
        value = self.real_weight * (real_scores - transformed).pow(2).mean()
        if self.fake_weight > 0:
            transformed = critic(flip_and_translate(fake.detach(), flip=self.flip))
            value = value + self.fake_weight * (fake_scores - transformed).pow(2).mean()
        return value

    def extra_repr(self) -> str:
        return f"real_weight={self.real_weight}, fake_weight={self.fake_weight}, flip={self.flip}"


class LatentConsistency(Penalty):
    """Latent consistency regularisation (zCR, Zhao et al. 2021): with z̃ = z + σ·N(0, I),
    D is penalised by λ_dis E (D(G(z)) - D(G(z̃)))² (small steps in z should not change its
    verdict) and G by -λ_gen E ‖G(z) - G(z̃)‖² (G should stay sensitive to z: against mode
    collapse). ‖·‖² is the squared distance averaged over pixels, so λ_gen does not depend on
    the image size. Defaults: σ = 0.03, λ_dis = 5, λ_gen = 0.5 (the paper's λ_dis is 5-20).
    """

    def __init__(
        self,
        discriminator_weight: float = 5.0,
        generator_weight: float = 0.5,
        noise_std: float = 0.03,
    ) -> None:
        super().__init__()
        self.discriminator_weight = require_non_negative(
            "LatentConsistency discriminator_weight", discriminator_weight, 5.0
        )
        self.generator_weight = require_non_negative(
            "LatentConsistency generator_weight", generator_weight, 0.5
        )
        if not noise_std > 0:
            raise GanArenaError(
                f"LatentConsistency noise_std must be > 0, got {noise_std}: e.g. noise_std=0.03"
            )
        self.noise_std = float(noise_std)

    def perturbed(self, latents: Latents) -> Tensor:
        """G(z̃): the fakes of the perturbed noise."""
        noise = latents.noise
        return latents.generate(noise + self.noise_std * torch.randn_like(noise))

    def penalize(
        self,
        critic: Critic,
        real: Tensor,
        fake: Tensor,
        scores: Scores | None,
        latents: Latents | None = None,
    ) -> Tensor:
        if latents is None:
            raise GanArenaError(
                "LatentConsistency (zCR) needs the fakes' noise and generator: call "
                "loss.penalty(..., latents=Latents(noise, generate)), as GANModule does"
            )
        _, fake_scores = self.scores_of(critic, real, fake, scores)
        with torch.no_grad():
            perturbed = self.perturbed(latents)
        return self.discriminator_weight * (fake_scores - critic(perturbed)).pow(2).mean()

    def penalize_generator(self, fake: Tensor, latents: Latents) -> Tensor | None:
        if self.generator_weight == 0:
            return None
        distance = (fake - self.perturbed(latents)).pow(2).flatten(1).mean(1).mean()
        return -self.generator_weight * distance

    def extra_repr(self) -> str:
        return (
            f"discriminator_weight={self.discriminator_weight}, "
            f"generator_weight={self.generator_weight}, noise_std={self.noise_std}"
        )
