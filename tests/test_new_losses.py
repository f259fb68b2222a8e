"""RpGAN, RaHinge and the f-GAN family give exactly their formulas, finite at any score.

Expected values are written out in plain Python from the papers' formulas: Huang et al. 2024
(RpGAN), Jolicoeur-Martineau 2018 (RaHinge), Nowozin et al. 2016, Table 2 (f-GAN).
"""

from __future__ import annotations

import math

import pytest
import torch

from ganarena.errors import GanArenaError
from ganarena.losses import (
    FDivergence,
    NonSaturating,
    RelativisticAverage,
    RelativisticAverageHinge,
    RelativisticPairing,
)

from .test_losses import F_, FAKE, REAL, R, relu, softplus


def mean(values) -> float:
    values = list(values)
    return sum(values) / len(values)


def test_rpgan_pairs_each_real_with_the_fake_of_its_index() -> None:
    loss = RelativisticPairing()
    d = mean(softplus(-(r - f)) for r, f in zip(R, F_, strict=True))
    g = mean(softplus(-(f - r)) for r, f in zip(R, F_, strict=True))
    assert loss.discriminator_loss(REAL, FAKE).item() == pytest.approx(d)
    assert loss.generator_loss(FAKE, REAL).item() == pytest.approx(g)


def test_the_pairing_matters_for_rpgan_and_not_for_ragan() -> None:
    reversed_fakes = FAKE.flip(0)
    pairing, average = RelativisticPairing(), RelativisticAverage()
    assert pairing.discriminator_loss(REAL, reversed_fakes) != pytest.approx(
        pairing.discriminator_loss(REAL, FAKE).item()
    )
    assert average.discriminator_loss(REAL, reversed_fakes).item() == pytest.approx(
        average.discriminator_loss(REAL, FAKE).item()
    )


def test_rpgan_refuses_batches_it_cannot_pair() -> None:
    with pytest.raises(ValueError, match="pairs each real with one fake"):
        RelativisticPairing().discriminator_loss(REAL, FAKE[:3])


def test_rahinge_equals_its_formula() -> None:
    loss = RelativisticAverageHinge()
    mean_r, mean_f = mean(R), mean(F_)
    d = mean(relu(1 - (r - mean_f)) for r in R) + mean(relu(1 + (f - mean_r)) for f in F_)
    g = mean(relu(1 - (f - mean_r)) for f in F_) + mean(relu(1 + (r - mean_f)) for r in R)
    assert loss.discriminator_loss(REAL, FAKE).item() == pytest.approx(d)
    assert loss.generator_loss(FAKE, REAL).item() == pytest.approx(g)


#: Nowozin et al. 2016, Table 2: the output activation g and the conjugate f*, as printed.
TABLE_2 = {
    "kl": (lambda v: v, lambda t: math.exp(t - 1)),
    "reverse_kl": (lambda v: -math.exp(-v), lambda t: -1 - math.log(-t)),
    "pearson": (lambda v: v, lambda t: t * t / 4 + t),
    "hellinger": (lambda v: 1 - math.exp(-v), lambda t: t / (1 - t)),
    "js": (lambda v: math.log(2) - softplus(-v), lambda t: -math.log(2 - math.exp(t))),
}


@pytest.mark.parametrize("divergence", list(TABLE_2))
def test_fgan_losses_equal_the_paper_table(divergence: str) -> None:
    g, conjugate = TABLE_2[divergence]
    loss = FDivergence(divergence)
    d = -(mean(g(r) for r in R) - mean(conjugate(g(f)) for f in F_))
    assert loss.discriminator_loss(REAL, FAKE).item() == pytest.approx(d, rel=1e-5)
    assert loss.generator_loss(FAKE).item() == pytest.approx(-mean(g(f) for f in F_), rel=1e-5)


NEW_LOSSES = [RelativisticPairing(), RelativisticAverageHinge()]
NEW_LOSSES += [FDivergence(name) for name in TABLE_2]


@pytest.mark.parametrize("loss", NEW_LOSSES, ids=lambda loss: repr(loss).replace("\n", ""))
def test_finite_values_and_gradients_at_scores_of_plus_and_minus_100(loss) -> None:
    real = torch.tensor([100.0, -100.0, 100.0, -100.0], requires_grad=True)
    fake = torch.tensor([-100.0, 100.0, 100.0, -100.0], requires_grad=True)
    d_loss = loss.discriminator_loss(real, fake)
    g_loss = loss.generator_loss(fake, real)
    gradients = torch.autograd.grad(d_loss + g_loss, [real, fake])
    assert torch.isfinite(d_loss) and torch.isfinite(g_loss)
    assert all(torch.isfinite(gradient).all() for gradient in gradients)


def test_an_unknown_divergence_names_the_ones_there_are() -> None:
    with pytest.raises(GanArenaError, match=r"'chi3' is not an f-divergence.*pearson"):
        FDivergence("chi3")


def test_fgan_js_is_the_non_saturating_gan_up_to_constants() -> None:
    """JS: f*(g(v)) = sp(v) - log 2 and g(v) = log 2 - sp(-v), so D's loss is the
    cross-entropy minus 2 log 2 and G's the non-saturating loss minus log 2: the same
    gradients, hence the same training run."""
    real = torch.randn(16, requires_grad=True)
    fake = torch.randn(16, requires_grad=True)
    js, ns = FDivergence("js"), NonSaturating()
    d_js, d_ns = js.discriminator_loss(real, fake), ns.discriminator_loss(real, fake)
    assert (d_js - d_ns).item() == pytest.approx(-2 * math.log(2), abs=1e-6)
    g_js, g_ns = js.generator_loss(fake), ns.generator_loss(fake)
    assert (g_js - g_ns).item() == pytest.approx(-math.log(2), abs=1e-6)
    grads_js = torch.autograd.grad(d_js + g_js, (real, fake))
    grads_ns = torch.autograd.grad(d_ns + g_ns, (real, fake))
    for a, b in zip(grads_js, grads_ns, strict=True):
        torch.testing.assert_close(a, b)


#: Scores past the old ±50 clamp, where it gave exactly zero gradient.
GUARD_SCORES = [60.0, 100.0, 1e4]
#: Below this, a float32 gradient rounds to 0 whatever the formula (the smallest normal float).
FLOAT32_TINY = torch.finfo(torch.float32).tiny


def exact_log_magnitudes(divergence: str, v: float) -> tuple[float, float]:
    """log |∂L_D/∂f| and log |∂L_G/∂f| per sample (∂L_D/∂r = ∂L_G/∂f here) from the paper's
    formulas, without any guard: how small the true gradients are, in log space."""
    log_sigmoid = lambda x: -(max(-x, 0.0) + math.log1p(math.exp(-abs(x))))  # noqa: E731
    g_slope = {"kl": 0.0, "pearson": 0.0, "reverse_kl": -v, "hellinger": -v}
    conjugate_slope = {"kl": v - 1, "reverse_kl": 0.0, "hellinger": v}
    if divergence == "js":
        return log_sigmoid(v), log_sigmoid(-v)
    if divergence == "pearson":
        return math.log(abs(v / 2 + 1)), 0.0
    return conjugate_slope[divergence], g_slope[divergence]


def expected_fake_sign(divergence: str, v: float) -> float:
    """Sign of ∂L_D/∂f: D lowers fake scores (f*∘g increasing), except Pearson's f*, which is
    least at g(v) = v = -2, so D pulls fake scores towards -2 from either side."""
    return math.copysign(1.0, v / 2 + 1) if divergence == "pearson" else 1.0


@pytest.mark.parametrize("score", [s * sign for s in GUARD_SCORES for sign in (1, -1)])
@pytest.mark.parametrize("divergence", list(TABLE_2))
def test_fgan_gradients_keep_their_direction_past_the_overflow_guard(divergence, score) -> None:
    """At ±60, ±100 and ±1e4 every loss and gradient is finite, and every gradient is nonzero
    with the sign of the exact one (D raises reals, pushes fakes its way; G raises fakes):
    the guard continues exp linearly above 50 (slope e^50, not 0) and as e^-50/(1 + (-50 - v))
    below -50. The only zeros allowed are JS's σ tails where the exact gradient is itself below
    float32's smallest number (the same as the cross-entropy of the BCE losses)."""
    loss = FDivergence(divergence)
    real = torch.full((4,), score, requires_grad=True)
    fake = torch.full((4,), score, requires_grad=True)
    d_loss, g_loss = loss.discriminator_loss(real, fake), loss.generator_loss(fake)
    d_real, d_fake = torch.autograd.grad(d_loss, [real, fake])
    (g_fake,) = torch.autograd.grad(g_loss, [fake])
    assert torch.isfinite(d_loss) and torch.isfinite(g_loss)
    log_fake, log_real = exact_log_magnitudes(divergence, score)
    checks = [(d_real, -1.0, log_real), (d_fake, expected_fake_sign(divergence, score), log_fake)]
    checks.append((g_fake, -1.0, log_real))  # L_G = -E g(f): the same slope as D's reals
    for gradient, sign, log_magnitude in checks:
        assert torch.isfinite(gradient).all()
        may_underflow = log_magnitude - math.log(4) < math.log(FLOAT32_TINY)
        if not may_underflow:
            assert (torch.sign(gradient) == sign).all(), (gradient, sign)
        else:
            assert (torch.sign(gradient) * sign >= 0).all()


def test_a_kl_critic_scoring_a_fake_at_60_is_pushed_down_hard() -> None:
    """The case of the issue: the exact slope is e^59 ≈ 4e25; the old clamp at 50 gave 0. The
    guard gives e^50/N: smaller than exact, but finite and pushing the right way."""
    fake = torch.tensor([60.0], requires_grad=True)
    FDivergence("kl").discriminator_loss(torch.zeros(1), fake).backward()
    assert fake.grad.item() == pytest.approx(math.exp(50.0), rel=1e-5)
