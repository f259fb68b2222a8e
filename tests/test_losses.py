"""The losses give exactly their formulas, and the gradients that tell them apart."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from ganarena.errors import GanArenaError
from ganarena.losses import Minimax, NonSaturating

REAL = torch.tensor([2.0, -1.0, 0.5, 3.0])
FAKE = torch.tensor([-3.0, 0.0, 1.5, -0.5])


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


@pytest.mark.parametrize("loss_cls", [Minimax, NonSaturating])
def test_discriminator_loss_is_binary_cross_entropy(loss_cls) -> None:
    expected = mean([softplus(-r) for r in REAL.tolist()]) + mean(
        [softplus(f) for f in FAKE.tolist()]
    )
    assert loss_cls().discriminator_loss(REAL, FAKE).item() == pytest.approx(expected, rel=1e-6)
    bce = F.binary_cross_entropy_with_logits
    reference = bce(REAL, torch.ones(4)) + bce(FAKE, torch.zeros(4))
    assert loss_cls().discriminator_loss(REAL, FAKE).item() == pytest.approx(reference.item())


def test_minimax_generator_loss_is_mean_log_one_minus_d() -> None:
    expected = mean([math.log(1 - 1 / (1 + math.exp(-f))) for f in FAKE.tolist()])
    assert Minimax().generator_loss(FAKE).item() == pytest.approx(expected, rel=1e-6)
    assert Minimax().generator_loss(FAKE).item() < 0  # why it cannot join a "total loss"


def test_nonsaturating_generator_loss_is_mean_minus_log_d() -> None:
    expected = mean([-math.log(1 / (1 + math.exp(-f))) for f in FAKE.tolist()])
    assert NonSaturating().generator_loss(FAKE).item() == pytest.approx(expected, rel=1e-6)


def generator_gradient(loss, fake_scores: torch.Tensor) -> torch.Tensor:
    scores = fake_scores.clone().requires_grad_(True)
    loss.generator_loss(scores).backward()
    return scores.grad


def test_minimax_gradient_vanishes_where_d_rejects_fakes_nonsaturating_does_not() -> None:
    rejected = torch.full((8,), -12.0)  # σ(-12) ≈ 6e-6: D is sure these are fake
    minimax = generator_gradient(Minimax(), rejected)
    nonsaturating = generator_gradient(NonSaturating(), rejected)
    # dL/df = -σ(f)/N for minimax and -(1 - σ(f))/N for the non-saturating loss.
    assert torch.allclose(minimax, -torch.sigmoid(rejected) / 8)
    assert torch.allclose(nonsaturating, -(1 - torch.sigmoid(rejected)) / 8)
    assert minimax.abs().max() < 1e-6
    assert nonsaturating.abs().min() > 0.12
    assert (nonsaturating.abs() / minimax.abs()).min() > 1e5


def test_both_push_fakes_towards_real() -> None:
    for loss in (Minimax(), NonSaturating()):
        assert (generator_gradient(loss, FAKE) < 0).all()


@pytest.mark.parametrize("loss_cls", [Minimax, NonSaturating])
def test_finite_at_extreme_scores(loss_cls) -> None:
    extreme = torch.tensor([-100.0, 100.0], requires_grad=True)
    loss = loss_cls()
    total = loss.discriminator_loss(extreme, extreme) + loss.generator_loss(extreme)
    total.backward()
    assert torch.isfinite(total)
    assert torch.isfinite(extreme.grad).all()


def test_n_critic_must_be_positive() -> None:
    with pytest.raises(GanArenaError, match=r"loss.n_critic must be at least 1"):
        NonSaturating(n_critic=0)
