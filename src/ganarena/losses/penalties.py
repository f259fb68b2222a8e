"""Gradient penalties: parts that any loss can add to its discriminator loss.

Each returns its weighted value as part of the graph of the discriminator loss (the loop
adds it and makes ONE backward), so the gradient of the penalty is taken with
`create_graph=True`. Every gradient norm is PER SAMPLE, over all non-batch dimensions: a
norm over the whole batch or over channels is a different (wrong) penalty.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganarena.losses.base import Critic, Penalty
from ganarena.networks.normalization import has_batch_norm
from ganarena.options import require_non_negative


def input_gradients(critic: Critic, points: Tensor) -> Tensor:
    """∇_x D(x) at each of `points`, kept in the graph so that D can be trained through it."""
    points = points.detach().requires_grad_(True)
    scores = critic(points)
    (gradients,) = torch.autograd.grad(scores.sum(), points, create_graph=True)
    return gradients


def per_sample_squared_norms(gradients: Tensor) -> Tensor:
    """‖g_i‖² over all non-batch dimensions, shape (N,)."""
    return gradients.flatten(1).pow(2).sum(dim=1)


def per_sample_norms(gradients: Tensor) -> Tensor:
    """‖g_i‖₂ over all non-batch dimensions, shape (N,); its gradient is 0 (not NaN) at 0."""
    return torch.linalg.vector_norm(gradients.flatten(1), dim=1)


def per_sample_uniform(like: Tensor) -> Tensor:
    """One U[0, 1) draw per sample, shaped to broadcast over the non-batch dimensions."""
    shape = (like.shape[0],) + (1,) * (like.dim() - 1)
    return torch.rand(shape, device=like.device, dtype=like.dtype)


class GradientNormPenalty(Penalty):
    """A penalty on ∇_x D(x): the parts below differ in where they evaluate it and how.

    A per-sample input gradient means something only when D scores each sample on its own:
    batch norm in D mixes the samples of a batch, so every gradient penalty warns about it.
    """

    def check_compatible(self, discriminator: nn.Module) -> None:
        if has_batch_norm(discriminator):
            warnings.warn(
                f"{type(self).__name__} with batch norm in D: batch norm mixes the samples of "
                "a batch, so the per-sample input gradients the penalty constrains are not "
                "D's; set model.discriminator.normalization=layer (or none)",
                UserWarning,
                stacklevel=2,
            )


class GradientPenalty(GradientNormPenalty):
    """WGAN-GP (Gulrajani et al. 2017), or WGAN-LP (Petzka et al. 2018) with `one_sided`.

    λ E (‖∇D(x̂)‖₂ - 1)² at x̂ = αx + (1 - α)G(z), with α ~ U[0, 1] drawn PER SAMPLE, so that
    the points cover the lines between reals and fakes. Two-sided it pulls every norm to 1;
    one-sided, λ E max(0, ‖∇D(x̂)‖₂ - 1)², it only stops norms above 1 (a Lipschitz bound,
    which is all the Wasserstein critic needs).
    """

    def __init__(self, weight: float = 10.0, one_sided: bool = False) -> None:
        super().__init__()
        self.weight = require_non_negative("GradientPenalty weight", weight, 10.0)
        self.one_sided = one_sided

    def forward(self, critic: Critic, real: Tensor, fake: Tensor) -> Tensor:
        alpha = per_sample_uniform(real)
        interpolates = alpha * real.detach() + (1 - alpha) * fake.detach()
        excess = per_sample_norms(input_gradients(critic, interpolates)) - 1
        if self.one_sided:
            excess = F.relu(excess)
        return self.weight * excess.pow(2).mean()

    def extra_repr(self) -> str:
        return f"weight={self.weight}, one_sided={self.one_sided}"


class MaxGradientPenalty(GradientNormPenalty):
    """MaxGP (Zhou et al. 2019, Lipschitz GANs): λ max_i ‖∇D(x̂_i)‖₂² over the batch, at
    WGAN-GP's interpolates x̂ = αx + (1 - α)G(z): only the steepest point is penalised."""

    def __init__(self, weight: float = 10.0) -> None:
        super().__init__()
        self.weight = require_non_negative("MaxGradientPenalty weight", weight, 10.0)

    def forward(self, critic: Critic, real: Tensor, fake: Tensor) -> Tensor:
        alpha = per_sample_uniform(real)
        interpolates = alpha * real.detach() + (1 - alpha) * fake.detach()
        return self.weight * per_sample_squared_norms(input_gradients(critic, interpolates)).max()

    def extra_repr(self) -> str:
        return f"weight={self.weight}"


class DRAGANPenalty(GradientNormPenalty):
    """DRAGAN (Kodali et al. 2017): λ E (‖∇D(x̃)‖₂ - 1)² near the reals only.

    x̃ = x + α·c·std(x)·u with α ~ U[0, 1) per sample, u ~ U[0, 1) per element, std over the
    whole batch and c = 0.5: the reference code's point (kodalinaveen3/DRAGAN, DRAGAN.ipynb,
    which interpolates between x and its perturbation x + c·std(x)·u with a random α; the paper
    writes Gaussian noise). α and u are drawn in that order, as PyTorch-StudioGAN's
    `cal_dra_penalty` (src/utils/losses.py) draws them, so the same seed gives the same point.
    Keeping D's gradient near 1 around the data removes the sharp peaks of D there that the
    authors blame for mode collapse.
    """

    def __init__(self, weight: float = 10.0, perturbation: float = 0.5) -> None:
        super().__init__()
        self.weight = require_non_negative("DRAGANPenalty weight", weight, 10.0)
        self.perturbation = require_non_negative("DRAGANPenalty perturbation", perturbation, 0.5)

    def points(self, real: Tensor) -> Tensor:
        """x̃ = x + α·c·std(x)·u: each real moved by a random share α of its perturbation."""
        alpha = per_sample_uniform(real)
        return real + alpha * (self.perturbation * real.std() * torch.rand_like(real))

    def forward(self, critic: Critic, real: Tensor, fake: Tensor) -> Tensor:
        norms = per_sample_norms(input_gradients(critic, self.points(real.detach())))
        return self.weight * (norms - 1).pow(2).mean()

    def extra_repr(self) -> str:
        return f"weight={self.weight}, perturbation={self.perturbation}"


class R1Penalty(GradientNormPenalty):
    """R1 (Mescheder et al. 2018): (γ/2) E ‖∇D(x)‖₂² on REAL samples.

    Penalises D's slope on the data itself, so that at equilibrium (G = data) D has no
    gradient to push G away with: the regulariser that makes GAN training locally convergent
    in their analysis.
    """

    def __init__(self, gamma: float = 10.0) -> None:
        super().__init__()
        self.gamma = require_non_negative(f"{type(self).__name__} gamma", gamma, 10.0)

    def points(self, real: Tensor, fake: Tensor) -> Tensor:
        return real

    def forward(self, critic: Critic, real: Tensor, fake: Tensor) -> Tensor:
        gradients = input_gradients(critic, self.points(real, fake))
        return self.gamma / 2 * per_sample_squared_norms(gradients).mean()

    def extra_repr(self) -> str:
        return f"gamma={self.gamma}"


class R2Penalty(R1Penalty):
    """R2 (Mescheder et al. 2018): (γ/2) E ‖∇D(G(z))‖₂², the R1 penalty on FAKE samples."""

    def points(self, real: Tensor, fake: Tensor) -> Tensor:
        return fake
