"""The losses give exactly their formulas, and the gradients that tell them apart.

Expected values are written out independently, in plain Python, from the papers' formulas
(the table in docs/losses.md).
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from ganarena.errors import GanArenaError
from ganarena.losses import (
    BEGAN,
    GANLoss,
    Hinge,
    HingeNonSaturating,
    LeastSquares,
    Minimax,
    NonSaturating,
    RelativisticAverage,
    Wasserstein,
)

REAL = torch.tensor([2.0, -1.0, 0.5, 3.0])
FAKE = torch.tensor([-3.0, 0.0, 1.5, -0.5])
R, F_ = REAL.tolist(), FAKE.tolist()


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def relu(x: float) -> float:
    return max(0.0, x)


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


MEAN_R, MEAN_F = mean(R), mean(F_)
BCE_D = mean([softplus(-r) for r in R]) + mean([softplus(f) for f in F_])
HINGE_D = mean([relu(1 - r) for r in R]) + mean([relu(1 + f) for f in F_])

#: loss -> (D loss, G loss) on (REAL, FAKE), from the specification's formulas.
EXPECTED: dict[type[GANLoss], tuple[float, float]] = {
    Minimax: (BCE_D, mean([math.log(1 - 1 / (1 + math.exp(-f))) for f in F_])),
    NonSaturating: (BCE_D, mean([-math.log(1 / (1 + math.exp(-f))) for f in F_])),
    LeastSquares: (
        mean([(r - 1) ** 2 for r in R]) + mean([f**2 for f in F_]),
        mean([(f - 1) ** 2 for f in F_]),
    ),
    Wasserstein: (MEAN_F - MEAN_R, -MEAN_F),
    Hinge: (HINGE_D, -MEAN_F),
    HingeNonSaturating: (HINGE_D, mean([relu(1 - f) for f in F_])),
    RelativisticAverage: (
        mean([softplus(-(r - MEAN_F)) for r in R]) + mean([softplus(f - MEAN_R) for f in F_]),
        mean([softplus(-(f - MEAN_R)) for f in F_]) + mean([softplus(r - MEAN_F) for r in R]),
    ),
}
ALL_LOSSES = [*EXPECTED, BEGAN]


def make(loss_cls: type[GANLoss]) -> GANLoss:
    return loss_cls()


@pytest.mark.parametrize("loss_cls", list(EXPECTED), ids=lambda c: c.__name__)
def test_both_losses_equal_the_specification(loss_cls) -> None:
    loss = make(loss_cls)
    expected_d, expected_g = EXPECTED[loss_cls]
    assert loss.discriminator_loss(REAL, FAKE).item() == pytest.approx(expected_d, rel=1e-6)
    assert loss.generator_loss(FAKE, REAL).item() == pytest.approx(expected_g, rel=1e-6)


def test_began_losses_equal_the_specification() -> None:
    errors_real, errors_fake = REAL.abs(), FAKE.abs()  # BEGAN's scores are errors e(·) >= 0
    loss = BEGAN(k_init=0.3)
    expected_d = mean(errors_real.tolist()) - 0.3 * mean(errors_fake.tolist())
    assert loss.discriminator_loss(errors_real, errors_fake).item() == pytest.approx(expected_d)
    assert loss.generator_loss(errors_fake).item() == pytest.approx(mean(errors_fake.tolist()))


def test_bce_discriminator_loss_is_torch_binary_cross_entropy() -> None:
    bce = F.binary_cross_entropy_with_logits
    reference = bce(REAL, torch.ones(4)) + bce(FAKE, torch.zeros(4))
    for loss in (Minimax(), NonSaturating()):
        assert loss.discriminator_loss(REAL, FAKE).item() == pytest.approx(reference.item())


def test_minimax_generator_loss_is_negative() -> None:
    assert Minimax().generator_loss(FAKE).item() < 0  # why it cannot join a "total loss"


@pytest.mark.parametrize("loss_cls", ALL_LOSSES, ids=lambda c: c.__name__)
def test_finite_with_finite_gradients_at_extreme_scores(loss_cls) -> None:
    real = torch.tensor([-100.0, 100.0, 100.0, -100.0], requires_grad=True)
    fake = torch.tensor([100.0, -100.0, 100.0, -100.0], requires_grad=True)
    loss = make(loss_cls)
    total = loss.discriminator_loss(real, fake) + loss.generator_loss(fake, real)
    total.backward()
    assert torch.isfinite(total)
    assert torch.isfinite(real.grad).all() and torch.isfinite(fake.grad).all()


def gradients(loss: GANLoss, real: torch.Tensor, fake: torch.Tensor, which: str):
    """d(loss)/d(real scores), d(loss)/d(fake scores) for the D or the G loss."""
    real = real.clone().requires_grad_(True)
    fake = fake.clone().requires_grad_(True)
    d_step = which == "d"
    value = loss.discriminator_loss(real, fake) if d_step else loss.generator_loss(fake, real)
    grad_real, grad_fake = torch.autograd.grad(value, [real, fake], allow_unused=True)
    return grad_real, grad_fake


def test_minimax_gradient_vanishes_where_d_rejects_fakes_nonsaturating_does_not() -> None:
    rejected = torch.full((8,), -12.0)  # σ(-12) ≈ 6e-6: D is sure these are fake
    _, minimax = gradients(Minimax(), rejected, rejected, "g")
    _, nonsaturating = gradients(NonSaturating(), rejected, rejected, "g")
    # dL/df = -σ(f)/N for minimax and -(1 - σ(f))/N for the non-saturating loss.
    assert torch.allclose(minimax, -torch.sigmoid(rejected) / 8)
    assert torch.allclose(nonsaturating, -(1 - torch.sigmoid(rejected)) / 8)
    assert minimax.abs().max() < 1e-6
    assert nonsaturating.abs().min() > 0.12
    assert (nonsaturating.abs() / minimax.abs()).min() > 1e5


@pytest.mark.parametrize("loss_cls", [Minimax, NonSaturating, LeastSquares, Hinge, Wasserstein])
def test_generator_pushes_fakes_towards_real(loss_cls) -> None:
    _, grad_fake = gradients(make(loss_cls), REAL, FAKE.clamp(max=0.5), "g")
    assert (grad_fake < 0).all()


def test_hinge_discriminator_gives_zero_gradient_past_the_margin() -> None:
    real = torch.tensor([1.5, 3.0, 0.5, -2.0])  # first two past the margin r > 1
    fake = torch.tensor([-1.5, -4.0, 0.0, 2.0])  # first two past the margin f < -1
    for loss in (Hinge(), HingeNonSaturating()):
        grad_real, grad_fake = gradients(loss, real, fake, "d")
        assert grad_real.tolist() == [0.0, 0.0, -0.25, -0.25]
        assert grad_fake.tolist() == [0.0, 0.0, 0.25, 0.25]


def test_hinge_generator_gradient_is_constant() -> None:
    _, grad_fake = gradients(Hinge(), REAL, torch.tensor([-5.0, 0.0, 2.0, 50.0]), "g")
    assert grad_fake.tolist() == [-0.25] * 4  # never cut off: the Wasserstein G loss


def test_hinge_ns_cuts_the_generator_gradient_once_d_of_g_exceeds_one() -> None:
    fake = torch.tensor([-5.0, 0.99, 1.01, 50.0])
    _, grad_fake = gradients(HingeNonSaturating(), REAL, fake, "g")
    assert grad_fake.tolist() == [-0.25, -0.25, 0.0, 0.0]


def test_least_squares_generator_gradient_grows_with_distance_to_target() -> None:
    fake = torch.tensor([-3.0, 0.0, 1.0, 2.0])
    _, grad_fake = gradients(LeastSquares(), REAL, fake, "g")
    assert grad_fake.tolist() == pytest.approx([2 * (f - 1) / 4 for f in fake.tolist()])


def test_wasserstein_weights_every_sample_equally() -> None:
    grad_real, grad_fake = gradients(Wasserstein(), REAL * 50, FAKE * 50, "d")
    assert grad_real.tolist() == [-0.25] * 4 and grad_fake.tolist() == [0.25] * 4


def test_relativistic_generator_loss_depends_on_the_real_scores() -> None:
    loss = RelativisticAverage()
    assert loss.generator_needs_real_scores
    assert loss.generator_loss(FAKE, REAL) != loss.generator_loss(FAKE, REAL + 1)
    # Half of G's objective is to make reals look LESS real than the fakes: its gradient
    # through the real scores is positive (the loss rises with D(x)).
    grad_real, grad_fake = gradients(loss, REAL, FAKE, "g")
    assert (grad_real > 0).all() and (grad_fake < 0).all()
    with pytest.raises(ValueError, match="real scores"):
        loss.generator_loss(FAKE)


SCORE_KINDS = {
    Minimax: (True, True),
    NonSaturating: (True, True),
    RelativisticAverage: (True, False),
    LeastSquares: (False, False),
    Wasserstein: (False, False),
    Hinge: (False, False),
    HingeNonSaturating: (False, False),
    BEGAN: (False, False),
}


@pytest.mark.parametrize("loss_cls", list(SCORE_KINDS), ids=lambda c: c.__name__)
def test_scores_are_logits_and_bce_family_flags(loss_cls) -> None:
    assert (loss_cls.scores_are_logits, loss_cls.bce_family) == SCORE_KINDS[loss_cls]


def test_n_critic_must_be_positive() -> None:
    with pytest.raises(GanArenaError, match=r"loss.n_critic must be a positive integer"):
        NonSaturating(n_critic=0)


def test_penalties_and_constraints_may_be_given_by_name_and_none_is_left_out() -> None:
    from ganarena.losses import R1Penalty, WeightClipping

    loss = Hinge(penalties={"r1": R1Penalty(), "off": None}, constraints=[WeightClipping()])
    assert [type(p).__name__ for p in loss.penalties] == ["R1Penalty"]
    assert [type(c).__name__ for c in loss.constraints] == ["WeightClipping"]
