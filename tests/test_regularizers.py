"""LeCam, MaxGP, consistency regularisation and lazy penalties: exact values and state."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor

from ganarena.errors import GanArenaError
from ganarena.losses import (
    BEGAN,
    Consistency,
    LatentConsistency,
    Latents,
    Lazy,
    LeCam,
    MaxGradientPenalty,
    NonSaturating,
    R1Penalty,
)
from ganarena.losses.regularizers import flip_and_translate
from ganarena.networks import AutoencoderDiscriminator, DCGANDiscriminator

REAL_SCORES = torch.tensor([2.0, -1.0, 0.5, 3.0])
FAKE_SCORES = torch.tensor([-3.0, 0.0, 1.5, -0.5])


def half_squared_norm(x: Tensor) -> Tensor:
    """D(x) = ½‖x‖² per sample: ∇D(x) = x."""
    return 0.5 * x.flatten(1).pow(2).sum(dim=1)


def unused_critic(x: Tensor) -> Tensor:
    raise AssertionError("LeCam must use the step's scores, not score the batches again")


def lecam_value(real: Tensor, fake: Tensor, real_average: float, fake_average: float) -> float:
    above = sum(max(0.0, r - fake_average) ** 2 for r in real.tolist()) / len(real)
    below = sum(max(0.0, real_average - f) ** 2 for f in fake.tolist()) / len(fake)
    return above + below


def test_lecam_is_its_formula_with_the_moving_averages_of_the_reference_code() -> None:
    """google/lecam-gan (third_party/utils.py `ema_losses`, third_party/train_fns.py): D step t,
    counted from 0, tracks the batch means while t < start_step; the penalty applies once
    t > start_step, reading the averages this step has just updated."""
    lecam = LeCam(weight=0.5, decay=0.9, start_step=1)
    x = torch.zeros(4, 1)
    first = lecam.penalize(unused_critic, x, x, (REAL_SCORES, FAKE_SCORES))
    assert first.item() == 0.0  # t = 0 < start_step: averages track the batch means
    assert lecam.real_average.item() == pytest.approx(REAL_SCORES.mean().item())
    real2, fake2 = REAL_SCORES + 1, FAKE_SCORES - 1
    second = lecam.penalize(unused_critic, x, x, (real2, fake2))
    alpha_r = 0.9 * REAL_SCORES.mean().item() + 0.1 * real2.mean().item()
    alpha_f = 0.9 * FAKE_SCORES.mean().item() + 0.1 * fake2.mean().item()
    assert lecam.real_average.item() == pytest.approx(alpha_r)
    assert second.item() == 0.0  # t = 1 = start_step: the averages decay, no penalty yet
    third = lecam.penalize(unused_critic, x, x, (real2, fake2))
    alpha_r = 0.9 * alpha_r + 0.1 * real2.mean().item()
    alpha_f = 0.9 * alpha_f + 0.1 * fake2.mean().item()
    assert third.item() == pytest.approx(0.5 * lecam_value(real2, fake2, alpha_r, alpha_f))


def test_lecam_gradient_flows_to_the_scores_not_through_the_averages() -> None:
    lecam = LeCam(weight=1.0, decay=0.0, start_step=0)  # averages = this batch's means
    x = torch.zeros(4, 1)
    lecam.penalize(unused_critic, x, x, (REAL_SCORES, FAKE_SCORES))  # t = 0: not yet applied
    real = REAL_SCORES.clone().requires_grad_(True)
    fake = FAKE_SCORES.clone().requires_grad_(True)
    lecam.penalize(unused_critic, x, x, (real, fake)).backward()
    alpha_r, alpha_f = REAL_SCORES.mean().item(), FAKE_SCORES.mean().item()
    expected_real = [2 * max(0.0, r - alpha_f) / 4 for r in REAL_SCORES.tolist()]
    assert real.grad.tolist() == pytest.approx(expected_real)
    assert fake.grad.tolist() == pytest.approx(
        [-2 * max(0.0, alpha_r - f) / 4 for f in FAKE_SCORES.tolist()]
    )


def test_lecam_state_is_in_the_state_dict_and_restores() -> None:
    lecam = LeCam(decay=0.0, start_step=0)
    x = torch.zeros(4, 1)
    lecam.penalize(unused_critic, x, x, (REAL_SCORES, FAKE_SCORES))
    restored = LeCam(decay=0.0, start_step=0)
    restored.load_state_dict(lecam.state_dict())
    assert restored.steps.item() == 1
    assert restored.real_average.item() == pytest.approx(REAL_SCORES.mean().item())


def test_lecam_refuses_a_loss_whose_reals_score_lower() -> None:
    with pytest.raises(GanArenaError, match="LeCam assumes D scores reals above fakes"):
        BEGAN(penalties={"lecam": LeCam()}).check_compatible(AutoencoderDiscriminator((1, 8, 8)))
    NonSaturating(penalties={"lecam": LeCam()}).check_compatible(DCGANDiscriminator((1, 8, 8)))


def test_maxgp_penalises_only_the_steepest_sample() -> None:
    torch.manual_seed(0)
    real, fake = torch.randn(5, 1, 2, 2), torch.randn(5, 1, 2, 2)
    torch.manual_seed(1)
    value = MaxGradientPenalty(weight=2.0)(half_squared_norm, real, fake)
    torch.manual_seed(1)
    alpha = torch.rand(5, 1, 1, 1)
    interpolates = alpha * real + (1 - alpha) * fake  # ∇D = x̂ for this critic
    assert value.item() == pytest.approx(2.0 * interpolates.flatten(1).pow(2).sum(1).max().item())


def test_lazy_r1_every_4_steps_is_4_times_r1_on_its_step_and_zero_between() -> None:
    torch.manual_seed(0)
    real, fake = torch.randn(6, 1, 2, 2), torch.randn(6, 1, 2, 2)
    eager = R1Penalty(gamma=10.0)(half_squared_norm, real, fake)
    lazy = Lazy(R1Penalty(gamma=10.0), every=4)
    values = [lazy.penalize(half_squared_norm, real, fake, None).item() for _ in range(8)]
    assert values[0] == pytest.approx(4 * eager.item()) and values[4] == values[0]
    assert values[1:4] == [0.0] * 3 and values[5:] == [0.0] * 3
    assert sum(values) / len(values) == pytest.approx(eager.item())  # the same in expectation


def test_lazy_keeps_its_rhythm_through_a_checkpoint() -> None:
    lazy = Lazy(R1Penalty(), every=4)
    for _ in range(3):
        lazy.penalize(half_squared_norm, torch.ones(2, 1), torch.ones(2, 1), None)
    restored = Lazy(R1Penalty(), every=4)
    restored.load_state_dict(lazy.state_dict())
    assert restored.steps == 3


@pytest.mark.parametrize("every", [0, -2, 1.5])
def test_a_lazy_interval_below_one_stops_with_one_line(every) -> None:
    with pytest.raises(GanArenaError, match="interval must be an integer of at least 1"):
        Lazy(R1Penalty(), every=every)


def test_cr_is_zero_for_a_transform_invariant_critic_and_positive_otherwise() -> None:
    torch.manual_seed(0)
    real = torch.randn(8, 1, 8, 8)
    scores = (half_squared_norm(real), half_squared_norm(real))
    # Mean over the image is invariant to flips, not to reflect-padded shifts: use the flip.
    flip_only = Consistency(real_weight=10.0, flip=True)
    mean_critic = lambda x: x.flatten(1).sum(1) * 0  # noqa: E731  (constant: invariant)
    assert flip_only.penalize(mean_critic, real, real, (mean_critic(real),) * 2).item() == 0.0
    assert flip_only.penalize(half_squared_norm, real, real, scores).item() > 0


def test_bcr_adds_the_fake_term() -> None:
    torch.manual_seed(0)
    real, fake = torch.randn(8, 1, 8, 8), torch.randn(8, 1, 8, 8)
    scores = (half_squared_norm(real), half_squared_norm(fake))
    torch.manual_seed(3)
    cr = Consistency(real_weight=10.0).penalize(half_squared_norm, real, fake, scores)
    torch.manual_seed(3)
    bcr = Consistency(real_weight=10.0, fake_weight=10.0).penalize(
        half_squared_norm, real, fake, scores
    )
    assert bcr.item() > cr.item() > 0


def test_flip_and_translate_moves_whole_images_within_an_eighth() -> None:
    torch.manual_seed(0)
    images = torch.zeros(64, 1, 16, 16)
    images[:, :, 7, 7] = 1.0  # one lit pixel
    moved = flip_and_translate(images, flip=False)
    assert torch.equal(moved.flatten(1).sum(1), torch.ones(64))  # no pixel lost or doubled
    rows, cols = moved[:, 0].nonzero()[:, 1], moved[:, 0].nonzero()[:, 2]
    assert (rows - 7).abs().max() <= 2 and (cols - 7).abs().max() <= 2
    assert len(set(zip(rows.tolist(), cols.tolist(), strict=True))) > 5


def linear_generator(z: Tensor) -> Tensor:
    """G(z) = 2z as a 1x1 'image' per latent dimension: G(z) - G(z̃) = 2(z - z̃)."""
    return 2 * z[:, :, None, None]


def test_zcr_penalises_d_by_its_score_change_under_a_latent_step() -> None:
    noise = torch.randn(256, 3)
    latents = Latents(noise, linear_generator)
    fake = linear_generator(noise)
    zcr = LatentConsistency(discriminator_weight=5.0, noise_std=0.1)

    def critic(x: Tensor) -> Tensor:  # D(x) = Σx: D(G(z)) - D(G(z̃)) = -2 Σ σε ~ N(0, 4·3·σ²)
        return x.flatten(1).sum(1)

    torch.manual_seed(0)
    value = zcr.penalize(critic, fake, fake, None, latents)
    torch.manual_seed(0)
    step = 0.1 * torch.randn_like(noise)
    assert value.item() == pytest.approx(5.0 * (2 * step.sum(1)).pow(2).mean().item(), rel=1e-5)
    assert value.item() == pytest.approx(5.0 * 4 * 3 * 0.01, rel=0.25)  # its expectation


def test_zcr_pushes_g_apart_for_nearby_noise_and_needs_no_d() -> None:
    noise = torch.randn(512, 4)
    zcr = LatentConsistency(generator_weight=0.5, noise_std=0.1)
    weight = torch.tensor(2.0, requires_grad=True)

    def generator(z: Tensor) -> Tensor:  # G(z) = w·z: ‖G(z) - G(z̃)‖² averaged = w²σ² in mean
        return weight * z[:, :, None, None]

    value = zcr.penalize_generator(generator(noise), Latents(noise, generator))
    assert value.item() == pytest.approx(-0.5 * 4 * 0.01, rel=0.2)
    (grad,) = torch.autograd.grad(value, weight)
    assert grad.item() < 0  # minimising it makes G more sensitive to z


def test_zcr_adds_a_term_to_the_generator_loss_and_other_parts_do_not() -> None:
    noise = torch.randn(8, 3)
    latents = Latents(noise, linear_generator)
    fake = linear_generator(noise)
    assert NonSaturating(penalties={"r1": R1Penalty()}).generator_penalty(fake, latents) is None
    lazy = NonSaturating(penalties={"zcr": Lazy(LatentConsistency(), every=4)})
    assert lazy.generator_penalty(fake, latents).item() < 0  # only D's term is lazy


def test_zcr_without_latents_stops_with_one_line() -> None:
    x = torch.randn(4, 1, 8, 8)
    with pytest.raises(GanArenaError, match="needs the fakes' noise and generator"):
        LatentConsistency().penalize(half_squared_norm, x, x, None)
    with pytest.raises(GanArenaError, match="noise_std must be > 0"):
        LatentConsistency(noise_std=0)
