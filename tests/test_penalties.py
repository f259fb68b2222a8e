"""Gradient penalties and weight clipping: per-sample norms, per-sample α, exact values."""

from __future__ import annotations

import math

import pytest
import torch
from torch import Tensor, nn

from ganarena.errors import GanArenaError
from ganarena.losses import (
    DRAGANPenalty,
    GradientPenalty,
    Hinge,
    R1Penalty,
    R2Penalty,
    Wasserstein,
    WeightClipping,
)
from ganarena.networks import DCGANDiscriminator, MLPDiscriminator

SHAPE = (3, 2, 2, 2)  # N, C, H, W: norms over all non-batch dims differ from per-channel ones


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def half_squared_norm(x: Tensor) -> Tensor:
    """D(x) = ½‖x‖² per sample: ∇D(x) = x, so each sample has its own gradient norm ‖x‖."""
    return 0.5 * x.flatten(1).pow(2).sum(dim=1)


class Spy:
    """A critic that records the points it is evaluated at."""

    def __init__(self, critic=half_squared_norm) -> None:
        self.critic, self.points = critic, []

    def __call__(self, x: Tensor) -> Tensor:
        self.points.append(x.detach().clone())
        return self.critic(x)


def sample_norms(x: Tensor) -> list[float]:
    return [math.sqrt(sum(v * v for v in row)) for row in x.flatten(1).tolist()]


def scaled_batch() -> Tensor:
    """Three samples whose norms are far apart (and differ from per-channel norms)."""
    return torch.randn(SHAPE) * torch.tensor([0.2, 1.0, 3.0]).view(3, 1, 1, 1)


def test_gradient_penalty_norm_is_per_sample() -> None:
    x = scaled_batch()
    # With real == fake every interpolate is x, whatever α: ∇D = x, per-sample norm ‖x_i‖.
    value = GradientPenalty(weight=10.0)(half_squared_norm, x, x.clone()).item()
    expected = 10.0 * sum((n - 1) ** 2 for n in sample_norms(x)) / 3
    assert value == pytest.approx(expected, rel=1e-5)
    whole_batch = 10.0 * (x.norm().item() - 1) ** 2
    per_channel = 10.0 * (x.flatten(2).norm(dim=2) - 1).pow(2).mean().item()
    assert value != pytest.approx(whole_batch, rel=1e-2)
    assert value != pytest.approx(per_channel, rel=1e-2)


def test_interpolation_weight_is_drawn_per_sample() -> None:
    real, fake = torch.ones(64, 2, 3, 3), torch.zeros(64, 2, 3, 3)
    spy = Spy()
    GradientPenalty()(spy, real, fake)
    alpha = spy.points[0]  # x̂ = α·1 + (1 - α)·0 = α, broadcast over each sample
    per_sample = alpha.flatten(1)
    assert torch.equal(per_sample, per_sample[:, :1].expand_as(per_sample))  # one α a sample
    assert per_sample[:, 0].unique().numel() == 64  # ... and a different one for each
    assert per_sample.min() >= 0 and per_sample.max() <= 1


def test_one_sided_penalty_only_penalises_norms_above_one() -> None:
    x = scaled_batch()  # norms about 0.2·√8, √8 and 3·√8: the first is below 1
    norms = sample_norms(x)
    assert min(norms) < 1 < max(norms)
    value = GradientPenalty(weight=10.0, one_sided=True)(half_squared_norm, x, x.clone()).item()
    expected = 10.0 * sum(max(0.0, n - 1) ** 2 for n in norms) / 3
    assert value == pytest.approx(expected, rel=1e-5)
    below = torch.full(SHAPE, 0.1)
    assert GradientPenalty(one_sided=True)(half_squared_norm, below, below).item() == 0.0


def test_gradient_penalty_trains_the_critic_through_its_gradient() -> None:
    critic = nn.Linear(4, 1)  # ∇_x D = w for every x: GP = λ(‖w‖ - 1)²
    real, fake = torch.randn(8, 4), torch.randn(8, 4)
    penalty = GradientPenalty(weight=10.0)(lambda x: critic(x).squeeze(1), real, fake)
    penalty.backward()
    w = critic.weight.detach()
    norm = w.norm()
    assert penalty.item() == pytest.approx(10.0 * (norm.item() - 1) ** 2, rel=1e-5)
    assert torch.allclose(critic.weight.grad, 10.0 * 2 * (norm - 1) * w / norm, atol=1e-6)


def test_gradient_penalty_is_finite_where_the_critic_is_flat() -> None:
    critic = nn.Linear(4, 1)
    nn.init.zeros_(critic.weight)  # ∇_x D = 0: ‖·‖ is not differentiable there
    x = torch.randn(8, 4)
    penalty = GradientPenalty(weight=10.0)(lambda p: critic(p).squeeze(1), x, x)
    penalty.backward()
    assert penalty.item() == pytest.approx(10.0)
    assert torch.isfinite(critic.weight.grad).all()


def test_dragan_moves_each_real_by_a_random_share_of_half_its_std_times_uniform_noise() -> None:
    """x̃ = x + α·0.5·std(x)·u: α ~ U[0, 1) one per sample, then u ~ U[0, 1) per element."""
    real = scaled_batch()
    spy = Spy()
    torch.manual_seed(5)
    value = DRAGANPenalty(weight=10.0)(spy, real, torch.zeros_like(real)).item()
    perturbed = spy.points[0]
    torch.manual_seed(5)
    alpha, noise = torch.rand(3, 1, 1, 1), torch.rand(SHAPE)
    torch.testing.assert_close(perturbed, real + alpha * 0.5 * real.std() * noise)
    assert alpha.flatten().unique().numel() == 3  # a share per sample ...
    assert noise.flatten().unique().numel() == noise.numel()  # ... and noise per element
    expected = 10.0 * sum((n - 1) ** 2 for n in sample_norms(perturbed)) / 3
    assert value == pytest.approx(expected, rel=1e-5)


def test_dragan_perturbs_by_half_of_the_full_amount_on_average() -> None:
    """E α = ½: the mean shift is half that of x + 0.5·std(x)·u (the point before the fix)."""
    real = torch.randn(4096, 1, 2, 2)
    spy = Spy()
    DRAGANPenalty()(spy, real, real)
    shift = (spy.points[0] - real) / (0.5 * real.std())
    assert shift.mean().item() == pytest.approx(0.25, abs=0.01)  # E[α·u] = ½·½


@pytest.mark.parametrize(("penalty_cls", "on"), [(R1Penalty, "real"), (R2Penalty, "fake")])
def test_r1_on_reals_and_r2_on_fakes_are_half_gamma_mean_squared_norm(penalty_cls, on) -> None:
    real, fake = scaled_batch(), scaled_batch() * 2
    value = penalty_cls(gamma=10.0)(half_squared_norm, real, fake).item()
    points = real if on == "real" else fake
    expected = 10.0 / 2 * sum(n**2 for n in sample_norms(points)) / 3
    assert value == pytest.approx(expected, rel=1e-5)


def test_a_loss_sums_its_penalties() -> None:
    real, fake = scaled_batch(), scaled_batch()
    parts = [R1Penalty(gamma=1.0), R2Penalty(gamma=3.0)]
    total = Hinge(penalties=parts).penalty(half_squared_norm, real, fake)
    separate = sum(part(half_squared_norm, real, fake) for part in parts)
    assert total.item() == pytest.approx(separate.item())
    assert Hinge().penalty(half_squared_norm, real, fake) is None


def test_weight_clipping_keeps_every_discriminator_weight_in_range() -> None:
    discriminator = MLPDiscriminator((2,), hidden_dim=32, depth=2)
    for parameter in discriminator.parameters():
        nn.init.normal_(parameter, std=1.0)
    WeightClipping(clip_value=0.01)(discriminator)
    for parameter in discriminator.parameters():
        assert parameter.abs().max() <= 0.01
    assert any((parameter.abs() == 0.01).any() for parameter in discriminator.parameters())


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: GradientPenalty(weight=-1.0), r"GradientPenalty weight must be >= 0"),
        (lambda: DRAGANPenalty(weight=-10.0), r"DRAGANPenalty weight must be >= 0"),
        (lambda: R1Penalty(gamma=-1.0), r"R1Penalty gamma must be >= 0"),
        (lambda: R2Penalty(gamma=-1.0), r"R2Penalty gamma must be >= 0"),
        (lambda: WeightClipping(clip_value=-0.01), r"WeightClipping clip_value must be > 0"),
        (lambda: WeightClipping(clip_value=0.0), r"WeightClipping clip_value must be > 0"),
    ],
)
def test_negative_weights_and_clip_values_name_the_fix(build, message) -> None:
    with pytest.raises(GanArenaError, match=message) as error:
        build()
    assert "set it to" in str(error.value) and "\n" not in str(error.value)


def test_weight_clipping_with_spectral_norm_is_an_error() -> None:
    loss = Wasserstein(constraints=[WeightClipping()])
    with pytest.raises(GanArenaError, match="normalization=none") as error:
        loss.check_compatible(MLPDiscriminator((2,), normalization="spectral"))
    assert "\n" not in str(error.value)
    loss.check_compatible(MLPDiscriminator((2,), normalization="layer"))  # fine


@pytest.mark.parametrize("penalty", [GradientPenalty(), DRAGANPenalty(), R1Penalty()])
def test_batch_norm_in_d_with_a_gradient_penalty_warns(penalty) -> None:
    loss = Wasserstein(penalties=[penalty])
    with pytest.warns(UserWarning, match="batch norm mixes the samples"):
        loss.check_compatible(DCGANDiscriminator((1, 16, 16), normalization="batch"))


def test_unconstrained_wasserstein_critic_warns() -> None:
    with pytest.warns(UserWarning, match="no Lipschitz constraint"):
        Wasserstein().check_compatible(MLPDiscriminator((2,)))
