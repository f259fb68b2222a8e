"""Every loss, penalty, regulariser and augmentation against its authors' published code.

Each test transcribes the reference implementation it names (repository and path; only the
lines that compute, with the framework plumbing such as DDP flags and output dictionaries
left out), runs it and the project's class on the same inputs, and, where the random draws
line up, the same seed, at ordinary and at large score scales, and compares values and
gradients. Where the project keeps another constant factor, the test applies the conversion
explicitly; docs/losses.md ("The authors' code") says why and what it means for the learning
rate. The f-GAN family has no reference code to compare with: its tests are in
test_new_losses.py (Nowozin et al. 2016, Table 2).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, autograd, nn

from ganarena.augment.adaptive import AdaptiveAugment
from ganarena.augment.diffaugment import color, cutout, translation
from ganarena.losses import (
    BEGAN,
    Consistency,
    DRAGANPenalty,
    GradientPenalty,
    Hinge,
    LatentConsistency,
    Latents,
    Lazy,
    LeastSquares,
    LeCam,
    MaxGradientPenalty,
    Minimax,
    NonSaturating,
    R1Penalty,
    R2Penalty,
    RelativisticAverage,
    RelativisticAverageHinge,
    RelativisticPairing,
    Wasserstein,
    WeightClipping,
)
from ganarena.losses.regularizers import flip_and_translate

#: Ordinary scores, and those of a D that is very sure of itself.
SCALES = [1.0, 50.0]
#: Non-square images, so that a per-axis rule and a one-size-fits-both rule differ.
IMAGE_SHAPE = (6, 3, 16, 24)

Values = tuple[Tensor, tuple[Tensor, ...]]


def score_batches(scale: float, size: int = 16) -> tuple[Tensor, Tensor]:
    """D(x) and D(G(z)) of one step: reals mostly above fakes, overlapping, times `scale`."""
    source = torch.Generator().manual_seed(int(scale))
    real = (torch.randn(size, generator=source) + 0.5) * scale
    fake = (torch.randn(size, generator=source) - 0.5) * scale
    return real, fake


def value_and_gradients(function: Callable[..., Tensor], *inputs: Tensor) -> Values:
    """function(*inputs) and its gradient with respect to each input (zeros where unused)."""
    leaves = [x.detach().clone().requires_grad_(True) for x in inputs]
    value = function(*leaves)
    gradients = autograd.grad(value, leaves, allow_unused=True)
    filled = tuple(
        torch.zeros_like(x) if g is None else g for g, x in zip(gradients, leaves, strict=True)
    )
    return value.detach(), filled


def assert_same(ours: Values, theirs: Values, factor: float = 1.0) -> None:
    """Our value and gradients equal `factor` times the reference's, to float32 rounding (the
    two sum in different orders: gradients agree to 1e-5 of the largest gradient entry)."""
    torch.testing.assert_close(ours[0], factor * theirs[0], rtol=1e-5, atol=1e-6)
    largest = max(g.abs().max().item() for g in theirs[1]) * abs(factor)
    for mine, reference in zip(ours[1], theirs[1], strict=True):
        atol = 1e-5 * max(largest, 1e-3)
        torch.testing.assert_close(mine, factor * reference, rtol=1e-5, atol=atol)


# --- PyTorch-StudioGAN, src/utils/losses.py (the DDP argument, unused there, left out) ---------


def studiogan_d_vanilla(d_logit_real: Tensor, d_logit_fake: Tensor) -> Tensor:
    d_loss = torch.mean(F.softplus(-d_logit_real)) + torch.mean(F.softplus(d_logit_fake))
    return d_loss


def studiogan_g_vanilla(d_logit_fake: Tensor) -> Tensor:
    return torch.mean(F.softplus(-d_logit_fake))


def studiogan_d_ls(d_logit_real: Tensor, d_logit_fake: Tensor) -> Tensor:
    d_loss = 0.5 * (d_logit_real - torch.ones_like(d_logit_real)) ** 2 + 0.5 * (d_logit_fake) ** 2
    return d_loss.mean()


def studiogan_g_ls(d_logit_fake: Tensor) -> Tensor:
    gen_loss = 0.5 * (d_logit_fake - torch.ones_like(d_logit_fake)) ** 2
    return gen_loss.mean()


def studiogan_d_hinge(d_logit_real: Tensor, d_logit_fake: Tensor) -> Tensor:
    return torch.mean(F.relu(1.0 - d_logit_real)) + torch.mean(F.relu(1.0 + d_logit_fake))


def studiogan_g_hinge(d_logit_fake: Tensor) -> Tensor:
    return -torch.mean(d_logit_fake)


def studiogan_d_wasserstein(d_logit_real: Tensor, d_logit_fake: Tensor) -> Tensor:
    return torch.mean(d_logit_fake - d_logit_real)


def studiogan_g_wasserstein(d_logit_fake: Tensor) -> Tensor:
    return -torch.mean(d_logit_fake)


# --- torchgan, torchgan/losses/functional.py (reduction="mean") -------------------------------


def torchgan_minimax_generator_loss(dgz: Tensor, nonsaturating: bool = True) -> Tensor:
    if nonsaturating:
        target = torch.ones_like(dgz)
        return F.binary_cross_entropy_with_logits(dgz, target)
    target = torch.zeros_like(dgz)
    return -1.0 * F.binary_cross_entropy_with_logits(dgz, target)


def torchgan_least_squares_generator_loss(dgz: Tensor, c: float = 1.0) -> Tensor:
    return 0.5 * ((dgz - c) ** 2).mean()


def torchgan_least_squares_discriminator_loss(
    dx: Tensor, dgz: Tensor, a: float = 0.0, b: float = 1.0
) -> Tensor:
    return 0.5 * (((dx - b) ** 2).mean() + ((dgz - a) ** 2).mean())


# --- Mimicry, torch_mimicry/nets/modules/losses.py (kwotsin/mimicry) ------------------------


def mimicry_minimax_loss_gen(output_fake: Tensor) -> Tensor:
    real_labels = torch.full((output_fake.shape[0], 1), 1.0)
    return F.binary_cross_entropy_with_logits(output_fake, real_labels)


def mimicry_minimax_loss_dis(output_fake: Tensor, output_real: Tensor) -> Tensor:
    fake_labels = torch.full((output_fake.shape[0], 1), 0.0)
    real_labels = torch.full((output_real.shape[0], 1), 1.0)
    errD_fake = F.binary_cross_entropy_with_logits(output_fake, fake_labels)
    errD_real = F.binary_cross_entropy_with_logits(output_real, real_labels)
    return errD_real + errD_fake


def mimicry_ns_loss_gen(output_fake: Tensor) -> Tensor:
    output_fake = torch.sigmoid(output_fake)
    return -torch.mean(torch.log(output_fake + 1e-8))


def mimicry_hinge_loss_dis(output_fake: Tensor, output_real: Tensor) -> Tensor:
    return F.relu(1.0 - output_real).mean() + F.relu(1.0 + output_fake).mean()


def mimicry_wasserstein_loss_dis(output_real: Tensor, output_fake: Tensor) -> Tensor:
    return -1.0 * output_real.mean() + output_fake.mean()


# --- AlexiaJM/RelativisticGAN, code/GAN_losses_iter.py (loss_D 6: RaSGAN, 8: RaHingeGAN) ------


def alexiajm_rasgan_d(y_pred: Tensor, y_pred_fake: Tensor) -> Tensor:
    y, y2 = torch.ones_like(y_pred), torch.zeros_like(y_pred)
    bce_stable = F.binary_cross_entropy_with_logits
    return (
        bce_stable(y_pred - torch.mean(y_pred_fake), y)
        + bce_stable(y_pred_fake - torch.mean(y_pred), y2)
    ) / 2


def alexiajm_rasgan_g(y_pred: Tensor, y_pred_fake: Tensor) -> Tensor:
    y, y2 = torch.ones_like(y_pred), torch.zeros_like(y_pred)
    bce_stable = F.binary_cross_entropy_with_logits
    return (
        bce_stable(y_pred - torch.mean(y_pred_fake), y2)
        + bce_stable(y_pred_fake - torch.mean(y_pred), y)
    ) / 2


def alexiajm_rahinge_d(y_pred: Tensor, y_pred_fake: Tensor) -> Tensor:
    relu = torch.nn.ReLU()
    return (
        torch.mean(relu(1.0 - (y_pred - torch.mean(y_pred_fake))))
        + torch.mean(relu(1.0 + (y_pred_fake - torch.mean(y_pred))))
    ) / 2


def alexiajm_rahinge_g(y_pred: Tensor, y_pred_fake: Tensor) -> Tensor:
    relu = torch.nn.ReLU()
    return (
        torch.mean(relu(1.0 + (y_pred - torch.mean(y_pred_fake))))
        + torch.mean(relu(1.0 - (y_pred_fake - torch.mean(y_pred))))
    ) / 2


# --- google/lecam-gan, biggan_cifar/losses.py --------------------------------------------------


def lecam_loss_rahinge_dis(dis_fake: Tensor, dis_real: Tensor) -> tuple[Tensor, Tensor]:
    loss_real = torch.mean(F.relu(1.0 - (dis_real - torch.mean(dis_fake))) / 2)
    loss_fake = torch.mean(F.relu(1.0 + (dis_fake - torch.mean(dis_real))) / 2)
    return loss_real, loss_fake


def lecam_reg(dis_real: Tensor, dis_fake: Tensor, ema: LecamEmaLosses) -> Tensor:
    reg = torch.mean(F.relu(dis_real - ema.D_fake).pow(2)) + torch.mean(
        F.relu(ema.D_real - dis_fake).pow(2)
    )
    return reg


class LecamEmaLosses:
    """google/lecam-gan, third_party/utils.py `ema_losses` (the score averages only)."""

    def __init__(self, init: float = 1000.0, decay: float = 0.99, start_itr: int = 0) -> None:
        self.D_real = init
        self.D_fake = init
        self.decay = decay
        self.start_itr = start_itr

    def update(self, cur: float, mode: str, itr: int) -> None:
        if itr < self.start_itr:  # noqa: SIM108  (as written there)
            decay = 0.0
        else:
            decay = self.decay
        if mode == "D_real":
            self.D_real = self.D_real * decay + cur * (1 - decay)
        elif mode == "D_fake":
            self.D_fake = self.D_fake * decay + cur * (1 - decay)


# --- brownvc/R3GAN, R3GAN/Trainer.py ------------------------------------------------------------


def r3gan_zero_centered_gradient_penalty(samples: Tensor, critics: Tensor) -> Tensor:
    (gradient,) = torch.autograd.grad(outputs=critics.sum(), inputs=samples, create_graph=True)
    return gradient.square().sum([1, 2, 3])


def r3gan_discriminator_loss(critic: Critic, real: Tensor, fake: Tensor, gamma: float) -> Tensor:
    real_samples = real.detach().requires_grad_(True)
    fake_samples = fake.detach().requires_grad_(True)
    real_logits = critic(real_samples)
    fake_logits = critic(fake_samples)
    r1_penalty = r3gan_zero_centered_gradient_penalty(real_samples, real_logits)
    r2_penalty = r3gan_zero_centered_gradient_penalty(fake_samples, fake_logits)
    relativistic_logits = real_logits - fake_logits
    adversarial_loss = nn.functional.softplus(-relativistic_logits)
    discriminator_loss = adversarial_loss + (gamma / 2) * (r1_penalty + r2_penalty)
    return discriminator_loss.mean()


# --- the critic the penalty tests differentiate -----------------------------------------------


class Critic(nn.Module):
    """A small nonlinear D on images whose input gradient differs from sample to sample;
    `scale` multiplies its scores (1: ordinary; 50: a D that is very sure of itself)."""

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        torch.manual_seed(0)
        features = math.prod(IMAGE_SHAPE[1:])
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(features, 32), nn.Tanh())
        self.head = nn.Linear(32, 1)
        self.scale = scale

    def forward(self, x: Tensor) -> Tensor:
        return self.scale * self.head(self.body(x)).squeeze(1)


def images() -> tuple[Tensor, Tensor]:
    source = torch.Generator().manual_seed(7)
    real = torch.rand(IMAGE_SHAPE, generator=source) * 2 - 1
    fake = torch.randn(IMAGE_SHAPE, generator=source) * 0.5
    return real, fake


def penalty_and_gradients(critic: Critic, penalty: Callable[[], Tensor], seed: int) -> Values:
    """A penalty's value and its gradient with respect to D's parameters, under `seed`."""
    torch.manual_seed(seed)
    value = penalty()
    parameters = list(critic.parameters())
    gradients = autograd.grad(value, parameters, allow_unused=True)
    pairs = zip(gradients, parameters, strict=True)
    filled = tuple(torch.zeros_like(p) if g is None else g for g, p in pairs)
    return value.detach(), filled


# --- the losses -----------------------------------------------------------------------------


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize(
    ("loss", "d_reference", "g_reference"),
    [
        (NonSaturating(), studiogan_d_vanilla, studiogan_g_vanilla),
        (Hinge(), studiogan_d_hinge, studiogan_g_hinge),
        (Wasserstein(), studiogan_d_wasserstein, studiogan_g_wasserstein),
    ],
    ids=["nonsaturating", "hinge", "wasserstein"],
)
def test_losses_equal_studiogan(loss, d_reference, g_reference, scale: float) -> None:
    """PyTorch-StudioGAN, src/utils/losses.py: d_vanilla/g_vanilla, d_hinge/g_hinge,
    d_wasserstein/g_wasserstein."""
    real, fake = score_batches(scale)
    assert_same(
        value_and_gradients(loss.discriminator_loss, real, fake),
        value_and_gradients(d_reference, real, fake),
    )
    assert_same(
        value_and_gradients(loss.generator_loss, fake), value_and_gradients(g_reference, fake)
    )


@pytest.mark.parametrize("scale", SCALES)
def test_minimax_equals_torchgan(scale: float) -> None:
    """torchgan, torchgan/losses/functional.py: minimax_generator_loss(nonsaturating=False), the
    saturating G loss -BCE(D(G(z)), 0); D's loss is StudioGAN's d_vanilla."""
    real, fake = score_batches(scale)
    loss = Minimax()
    reference = lambda f: torchgan_minimax_generator_loss(f, nonsaturating=False)  # noqa: E731
    assert_same(
        value_and_gradients(loss.generator_loss, fake), value_and_gradients(reference, fake)
    )
    assert_same(
        value_and_gradients(loss.discriminator_loss, real, fake),
        value_and_gradients(studiogan_d_vanilla, real, fake),
    )


@pytest.mark.parametrize("scale", SCALES)
def test_least_squares_is_twice_studiogan_and_torchgan(scale: float) -> None:
    """PyTorch-StudioGAN, src/utils/losses.py d_ls/g_ls, and torchgan,
    torchgan/losses/functional.py least_squares_*: both keep Mao et al.'s ½ in front of each
    term; the project does not, so its LSGAN losses and gradients are exactly twice theirs."""
    real, fake = score_batches(scale)
    loss = LeastSquares()
    for d_reference, g_reference in [
        (studiogan_d_ls, studiogan_g_ls),
        (torchgan_least_squares_discriminator_loss, torchgan_least_squares_generator_loss),
    ]:
        assert_same(
            value_and_gradients(loss.discriminator_loss, real, fake),
            value_and_gradients(d_reference, real, fake),
            factor=2.0,
        )
        assert_same(
            value_and_gradients(loss.generator_loss, fake),
            value_and_gradients(g_reference, fake),
            factor=2.0,
        )


@pytest.mark.parametrize("scale", SCALES)
def test_bce_hinge_and_wasserstein_equal_mimicry(scale: float) -> None:
    """Mimicry, torch_mimicry/nets/modules/losses.py: minimax_loss_dis, hinge_loss_dis,
    wasserstein_loss_dis, and minimax_loss_gen, which is BCE(D(G(z)), 1): the NON-saturating
    loss under the name "gan" (the project's `nonsaturating`, not its `minimax`)."""
    real, fake = score_batches(scale)
    column = lambda f: lambda *s: f(*(x[:, None] for x in s))  # noqa: E731  (their (N, 1))
    cases = [
        (NonSaturating().discriminator_loss, lambda r, f: mimicry_minimax_loss_dis(f, r)),
        (Hinge().discriminator_loss, lambda r, f: mimicry_hinge_loss_dis(f, r)),
        (Wasserstein().discriminator_loss, mimicry_wasserstein_loss_dis),
    ]
    for ours, theirs in cases:
        reference = value_and_gradients(column(theirs), real, fake)
        assert_same(value_and_gradients(ours, real, fake), reference)
    assert_same(
        value_and_gradients(NonSaturating().generator_loss, fake),
        value_and_gradients(column(mimicry_minimax_loss_gen), fake),
    )


def test_mimicry_ns_loss_gen_saturates_where_the_project_does_not() -> None:
    """Mimicry, torch_mimicry/nets/modules/losses.py ns_loss_gen: -log(σ(f) + 1e-8). It equals
    the project's E sp(-f) at ordinary scores; at f = -50 its σ(f) ≈ 2e-22 drowns in the 1e-8,
    so its loss is stuck at -log(1e-8) ≈ 18.4 with no gradient, where the non-saturating
    loss is 50 with gradient -1/N: the project does not take the sigmoid before the log."""
    _, fake = score_batches(1.0)
    ours = value_and_gradients(NonSaturating().generator_loss, fake)
    theirs = value_and_gradients(mimicry_ns_loss_gen, fake)
    torch.testing.assert_close(ours[0], theirs[0], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(ours[1][0], theirs[1][0], rtol=1e-4, atol=1e-6)
    rejected = torch.full((4,), -50.0)
    value, (gradient,) = value_and_gradients(NonSaturating().generator_loss, rejected)
    stuck, (none,) = value_and_gradients(mimicry_ns_loss_gen, rejected)
    assert value.item() == pytest.approx(50.0) and gradient.tolist() == [-0.25] * 4
    assert stuck.item() == pytest.approx(-math.log(1e-8)) and none.abs().max() < 1e-12


@pytest.mark.parametrize("scale", SCALES)
def test_ragan_is_twice_alexiajm(scale: float) -> None:
    """AlexiaJM/RelativisticGAN, code/GAN_losses_iter.py, loss_D == 6 (RaSGAN): both losses
    are halved there; the project keeps the paper's sums, so its values and gradients are
    exactly twice the authors'. The G loss needs the real scores in both."""
    real, fake = score_batches(scale)
    loss = RelativisticAverage()
    assert_same(
        value_and_gradients(loss.discriminator_loss, real, fake),
        value_and_gradients(alexiajm_rasgan_d, real, fake),
        factor=2.0,
    )
    assert_same(
        value_and_gradients(lambda r, f: loss.generator_loss(f, r), real, fake),
        value_and_gradients(alexiajm_rasgan_g, real, fake),
        factor=2.0,
    )


@pytest.mark.parametrize("scale", SCALES)
def test_rahinge_is_twice_alexiajm_and_lecam_gan(scale: float) -> None:
    """AlexiaJM/RelativisticGAN, code/GAN_losses_iter.py, loss_D == 8 (RaHingeGAN), and
    google/lecam-gan, biggan_cifar/losses.py loss_rahinge_dis: both halve each term; the
    project's RaHinge is exactly twice theirs. (lecam-gan's G loss differs in kind: it reads
    the D step's mean real score as a constant, so G gets no gradient through the reals.)"""
    real, fake = score_batches(scale)
    loss = RelativisticAverageHinge()
    ours_d = value_and_gradients(loss.discriminator_loss, real, fake)
    assert_same(ours_d, value_and_gradients(alexiajm_rahinge_d, real, fake), factor=2.0)
    lecam = lambda r, f: sum(lecam_loss_rahinge_dis(f, r))  # noqa: E731
    assert_same(ours_d, value_and_gradients(lecam, real, fake), factor=2.0)
    assert_same(
        value_and_gradients(lambda r, f: loss.generator_loss(f, r), real, fake),
        value_and_gradients(alexiajm_rahinge_g, real, fake),
        factor=2.0,
    )


@pytest.mark.parametrize("scale", SCALES)
def test_rpgan_equals_r3gan(scale: float) -> None:
    """brownvc/R3GAN, R3GAN/Trainer.py: softplus(-(RealLogits - FakeLogits)) for D and
    softplus(-(FakeLogits - RealLogits)) for G, averaged over the batch."""
    real, fake = score_batches(scale)
    loss = RelativisticPairing()
    d_reference = lambda r, f: nn.functional.softplus(-(r - f)).mean()  # noqa: E731
    g_reference = lambda r, f: nn.functional.softplus(-(f - r)).mean()  # noqa: E731
    assert_same(
        value_and_gradients(loss.discriminator_loss, real, fake),
        value_and_gradients(d_reference, real, fake),
    )
    assert_same(
        value_and_gradients(lambda r, f: loss.generator_loss(f, r), real, fake),
        value_and_gradients(g_reference, real, fake),
    )


def test_began_losses_and_controller_equal_torchgan() -> None:
    """torchgan, torchgan/losses/boundaryequilibrium.py: D = mean e(x) - k·mean e(G(z)),
    G = mean e(G(z)); k += λ(γ·mean e(x) - mean e(G(z))), clamped to [0, 1], and the
    convergence measure mean e(x) + |γ·mean e(x) - mean e(G(z))|, step after step."""
    source = torch.Generator().manual_seed(3)
    ours = BEGAN(gamma=0.75, lambda_k=0.05, k_init=0.0)
    k, lambd, gamma = 0.0, 0.05, 0.75  # torchgan's update_k state, λ raised to move k visibly
    for _ in range(30):
        dx, dgz = torch.rand(8, generator=source), torch.rand(8, generator=source) * 0.4
        loss_real, loss_fake = dx.mean(), dgz.mean()
        reference_total = loss_real - k * loss_fake
        torch.testing.assert_close(ours.discriminator_loss(dx, dgz), reference_total)
        torch.testing.assert_close(ours.generator_loss(dgz), dgz.mean())
        ours.update_state(dx, dgz)
        diff = gamma * loss_real.item() - loss_fake.item()
        k = min(max(k + lambd * diff, 0.0), 1.0)
        assert ours.k.item() == pytest.approx(k, abs=1e-6)
        assert ours.convergence.item() == pytest.approx(loss_real.item() + abs(diff), abs=1e-6)
    assert 0.0 < k < 1.0  # the controller moved, and within its bounds


# --- gradient penalties ---------------------------------------------------------------------


def studiogan_cal_deriv(inputs: Tensor, outputs: Tensor) -> Tensor:
    """PyTorch-StudioGAN, src/utils/losses.py cal_deriv (device moves left out)."""
    grads = autograd.grad(
        outputs=outputs,
        inputs=inputs,
        grad_outputs=torch.ones(outputs.size()),
        create_graph=True,
        retain_graph=True,
        only_inputs=True,
    )[0]
    return grads


def studiogan_cal_grad_penalty(real_images: Tensor, fake_images: Tensor, critic) -> Tensor:
    """PyTorch-StudioGAN, src/utils/losses.py cal_grad_penalty (D's output dict read as the
    score; the zero term that keeps DDP's graph whole left out)."""
    batch_size, c, h, w = real_images.shape
    alpha = torch.rand(batch_size, 1)
    alpha = alpha.expand(batch_size, real_images.nelement() // batch_size)
    alpha = alpha.contiguous().view(batch_size, c, h, w)
    interpolates = alpha * real_images + ((1 - alpha) * fake_images)
    interpolates = autograd.Variable(interpolates, requires_grad=True)
    grads = studiogan_cal_deriv(inputs=interpolates, outputs=critic(interpolates))
    grads = grads.view(grads.size(0), -1)
    return ((grads.norm(2, dim=1) - 1) ** 2).mean()


def studiogan_cal_maxgrad_penalty(real_images: Tensor, fake_images: Tensor, critic) -> Tensor:
    """PyTorch-StudioGAN, src/utils/losses.py cal_maxgrad_penalty."""
    batch_size, c, h, w = real_images.shape
    alpha = torch.rand(batch_size, 1)
    alpha = alpha.expand(batch_size, real_images.nelement() // batch_size)
    alpha = alpha.contiguous().view(batch_size, c, h, w)
    interpolates = alpha * real_images + ((1 - alpha) * fake_images)
    interpolates = autograd.Variable(interpolates, requires_grad=True)
    grads = studiogan_cal_deriv(inputs=interpolates, outputs=critic(interpolates))
    grads = grads.view(grads.size(0), -1)
    return torch.max(grads.norm(2, dim=1) ** 2)


def studiogan_cal_dra_penalty(real_images: Tensor, critic) -> Tensor:
    """PyTorch-StudioGAN, src/utils/losses.py cal_dra_penalty."""
    batch_size, c, h, w = real_images.shape  # noqa: RUF059  (as written there)
    alpha = torch.rand(batch_size, 1, 1, 1)
    differences = 0.5 * real_images.std() * torch.rand(real_images.size())
    interpolates = real_images + (alpha * differences)
    interpolates = autograd.Variable(interpolates, requires_grad=True)
    grads = studiogan_cal_deriv(inputs=interpolates, outputs=critic(interpolates))
    grads = grads.view(grads.size(0), -1)
    return ((grads.norm(2, dim=1) - 1) ** 2).mean()


def studiogan_cal_r1_reg(adv_output: Tensor, images: Tensor) -> Tensor:
    """PyTorch-StudioGAN, src/utils/losses.py cal_r1_reg."""
    batch_size = images.size(0)
    grad_dout = studiogan_cal_deriv(inputs=images, outputs=adv_output.sum())
    grad_dout2 = grad_dout.pow(2)
    assert grad_dout2.size() == images.size()
    return 0.5 * grad_dout2.contiguous().view(batch_size, -1).sum(1).mean(0)


def gan_stability_compute_grad2(d_out: Tensor, x_in: Tensor) -> Tensor:
    """LMescheder/GAN_stability, gan_training/train.py compute_grad2."""
    batch_size = x_in.size(0)
    grad_dout = autograd.grad(
        outputs=d_out.sum(), inputs=x_in, create_graph=True, retain_graph=True, only_inputs=True
    )[0]
    grad_dout2 = grad_dout.pow(2)
    assert grad_dout2.size() == x_in.size()
    return grad_dout2.view(batch_size, -1).sum(1)


class Recorder(nn.Module):
    """Passes to `critic` and keeps each batch it was given, to compare evaluation points."""

    def __init__(self, critic: Critic) -> None:
        super().__init__()
        self.critic, self.points = critic, []

    def forward(self, x: Tensor) -> Tensor:
        self.points.append(x.detach().clone())
        return self.critic(x)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (GradientPenalty(weight=10.0), studiogan_cal_grad_penalty),
        (MaxGradientPenalty(weight=10.0), studiogan_cal_maxgrad_penalty),
    ],
    ids=["wgan_gp", "maxgp"],
)
def test_wgan_gp_and_maxgp_equal_studiogan_under_the_same_seed(ours, theirs, scale) -> None:
    """PyTorch-StudioGAN, src/utils/losses.py cal_grad_penalty and cal_maxgrad_penalty, times
    λ as its worker adds them: one α ~ U[0, 1) per sample, drawn as the project draws it."""
    critic = Critic(scale)
    real, fake = images()
    assert_same(
        penalty_and_gradients(critic, lambda: ours(critic, real, fake), seed=11),
        penalty_and_gradients(critic, lambda: 10.0 * theirs(real, fake, critic), seed=11),
    )


@pytest.mark.parametrize("scale", SCALES)
def test_dragan_penalty_point_and_value_equal_studiogan_under_the_same_seed(scale: float) -> None:
    """PyTorch-StudioGAN, src/utils/losses.py cal_dra_penalty: x̃ = x + α·0.5·std(x)·u, α per
    sample drawn first, u per element; the same seed gives the same points, hence the same
    penalty and gradients (times λ, as StudioGAN's worker adds dra_lambda · dra_loss)."""
    critic = Critic(scale)
    real, _ = images()
    ours, theirs = Recorder(critic), Recorder(critic)
    assert_same(
        penalty_and_gradients(critic, lambda: DRAGANPenalty(10.0)(ours, real, real), seed=5),
        penalty_and_gradients(critic, lambda: 10.0 * studiogan_cal_dra_penalty(real, theirs), 5),
    )
    torch.testing.assert_close(ours.points[0], theirs.points[0], rtol=0, atol=0)
    assert not torch.equal(ours.points[0], real + 0.5 * real.std() * torch.rand_like(real))


def test_dragan_point_is_the_authors_interpolate_of_their_perturbation() -> None:
    """kodalinaveen3/DRAGAN, DRAGAN.ipynb: X_p = X + 0.5·X.std()·U (numpy: U ~ U[0, 1) per
    element, the population std), then interpolates = X + α·(X_p - X) with α ~ U[0, 1) per
    row. With the same α and U the project's point is theirs with torch's sample std, a factor
    √(n/(n-1)) on the noise for n values in the batch (1 + 4e-4 here, 1 + 1e-5 for 64 MNIST
    digits): the convention StudioGAN keeps, applied here explicitly."""
    real, _ = images()
    recorder = Recorder(Critic())
    torch.manual_seed(2)
    DRAGANPenalty()(recorder, real, real)
    torch.manual_seed(2)
    alpha, noise = torch.rand(real.shape[0], 1, 1, 1), torch.rand(real.shape)
    x = real.flatten(1).numpy().astype("float64")
    x_p = x + 0.5 * x.std() * noise.flatten(1).numpy()  # get_perturbed_batch
    interpolate = x + alpha.flatten(1).numpy() * (x_p - x)
    shift = torch.from_numpy(interpolate - x) * math.sqrt(x.size / (x.size - 1))
    ours = recorder.points[0].flatten(1).double()
    torch.testing.assert_close(ours, real.flatten(1).double() + shift, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("scale", SCALES)
def test_r1_and_r2_equal_studiogan_and_r3gan_and_half_of_gan_stability(scale: float) -> None:
    """R1 = (γ/2) E ‖∇D(x)‖², R2 the same on fakes:
    - PyTorch-StudioGAN, src/utils/losses.py cal_r1_reg (0.5 · mean of the summed squares),
      times r1_lambda: the project's γ is StudioGAN's r1_lambda;
    - brownvc/R3GAN, R3GAN/Trainer.py: (Gamma / 2) · ZeroCenteredGradientPenalty: same γ;
    - LMescheder/GAN_stability, gan_training/train.py: reg_param · compute_grad2(...).mean(),
      with no ½: their reg_param is γ/2 here (their default reg_param = 10 is γ = 20)."""
    critic = Critic(scale)
    real, fake = images()
    gamma = 10.0

    def at(points: Tensor, reference: Callable[[Tensor], Tensor]) -> Callable[[], Tensor]:
        return lambda: reference(points.detach().requires_grad_(True))

    def studiogan(x: Tensor) -> Tensor:
        return gamma * studiogan_cal_r1_reg(critic(x), x)

    def r3gan(x: Tensor) -> Tensor:
        return (gamma / 2) * r3gan_zero_centered_gradient_penalty(x, critic(x)).mean()

    def gan_stability(x: Tensor) -> Tensor:
        reg_param = gamma / 2
        return reg_param * gan_stability_compute_grad2(critic(x), x).mean()

    for penalty, points in [(R1Penalty(gamma), real), (R2Penalty(gamma), fake)]:
        ours = penalty_and_gradients(critic, partial(penalty, critic, real, fake), seed=0)
        for reference in (studiogan, r3gan, gan_stability):
            assert_same(ours, penalty_and_gradients(critic, at(points, reference), seed=0))


@pytest.mark.parametrize("scale", SCALES)
def test_r3gan_discriminator_loss_equals_r3gan(scale: float) -> None:
    """brownvc/R3GAN, R3GAN/Trainer.py AccumulateDiscriminatorGradients: mean of
    softplus(-(D(x) - D(G(z)))) + (γ/2)(R1 + R2), the squared norms summed over pixels; the
    project's `loss=r3gan` (RelativisticPairing with R1Penalty and R2Penalty, one γ)."""
    critic = Critic(scale)
    real, fake = images()
    gamma = 0.05
    loss = RelativisticPairing(penalties={"r1": R1Penalty(gamma), "r2": R2Penalty(gamma)})

    def ours() -> Tensor:
        scores = critic(real), critic(fake)
        return loss.discriminator_loss(*scores) + loss.penalty(critic, real, fake, scores)

    assert_same(
        penalty_and_gradients(critic, ours, seed=0),
        penalty_and_gradients(
            critic, partial(r3gan_discriminator_loss, critic, real, fake, gamma), 0
        ),
    )


def test_lecam_equals_lecam_gan_step_by_step() -> None:
    """google/lecam-gan: third_party/utils.py `ema_losses` (decay 0 while itr < start_itr),
    biggan_cifar/losses.py `lecam_reg`, and third_party/train_fns.py, which updates the
    averages in the D loss and then adds λ·lecam_reg once itr > start_itr (itr counts from 0,
    third_party/run_train.py). Values and gradients, one D step per training step."""
    lecam = LeCam(weight=0.3, decay=0.9, start_step=3)
    ema = LecamEmaLosses(decay=0.9, start_itr=3)
    x = torch.zeros(16, 1)
    for itr in range(10):
        real, fake = score_batches(1.0 + itr)
        ours = value_and_gradients(lambda r, f: lecam.penalize(None, x, x, (r, f)), real, fake)

        def reference(d_real: Tensor, d_fake: Tensor, itr: int = itr) -> Tensor:
            ema.update(torch.mean(d_fake).item(), "D_fake", itr)
            ema.update(torch.mean(d_real).item(), "D_real", itr)
            if itr > ema.start_itr:
                return lecam_reg(d_real, d_fake, ema) * 0.3
            return (d_real * 0).sum()  # torch.tensor(0.) there: no gradient

        assert_same(ours, value_and_gradients(reference, real, fake))
        assert lecam.real_average.item() == pytest.approx(ema.D_real, rel=1e-5)
        assert lecam.fake_average.item() == pytest.approx(ema.D_fake, rel=1e-5)


def test_lazy_r1_equals_studiogan_lazy_regularisation() -> None:
    """PyTorch-StudioGAN, src/worker.py (after StyleGAN2): the R1 term is added on the D steps
    where step % d_reg_interval == 0, times d_reg_interval · r1_lambda, with
    src/utils/losses.py stylegan_cal_r1_reg = mean of the summed squares / 2."""
    critic = Critic()
    real, fake = images()
    lazy = Lazy(R1Penalty(gamma=10.0), every=4)
    for step in range(9):
        ours = lazy.penalize(critic, real, fake, None)
        x = real.detach().requires_grad_(True)
        r1 = autograd.grad(critic(x).sum(), x, create_graph=True)[0].square().sum([1, 2, 3]) / 2
        theirs = 4 * 10.0 * r1.mean() if step % 4 == 0 else torch.zeros(())
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-7)


def test_weight_clipping_equals_studiogan() -> None:
    """PyTorch-StudioGAN, src/worker.py: p.data.clamp_(-wc_bound, wc_bound) for every D
    parameter after the D step."""
    critic, reference = Critic(), Critic()
    for parameter in critic.parameters():
        nn.init.normal_(parameter, std=0.1)
    reference.load_state_dict(critic.state_dict())
    WeightClipping(0.01)(critic)
    for p in reference.parameters():
        p.data.clamp_(-0.01, 0.01)
    for mine, theirs in zip(critic.parameters(), reference.parameters(), strict=True):
        assert torch.equal(mine, theirs)


# --- consistency regularisation ---------------------------------------------------------------


def studiogan_random_flip(x: Tensor, p: float) -> Tensor:
    """PyTorch-StudioGAN, src/utils/cr.py random_flip."""
    x_out = x.clone()
    n, c, h, w = x.shape[0], x.shape[1], x.shape[2], x.shape[3]
    flip_prob = torch.FloatTensor(n, 1).uniform_(0.0, 1.0)
    flip_mask = flip_prob < p
    flip_mask = flip_mask.type(torch.bool).view(n, 1, 1, 1).repeat(1, c, h, w)
    x_out[flip_mask] = torch.flip(x[flip_mask].view(-1, c, h, w), [3]).view(-1)
    return x_out


def studiogan_random_translation(x: Tensor, ratio: float) -> Tensor:
    """PyTorch-StudioGAN, src/utils/cr.py random_translation."""
    max_t_x, max_t_y = int(x.shape[2] * ratio), int(x.shape[3] * ratio)
    t_x = torch.randint(-max_t_x, max_t_x + 1, size=[x.shape[0], 1, 1])
    t_y = torch.randint(-max_t_y, max_t_y + 1, size=[x.shape[0], 1, 1])
    grid_batch, grid_x, grid_y = torch.meshgrid(
        torch.arange(x.shape[0], dtype=torch.long),
        torch.arange(x.shape[2], dtype=torch.long),
        torch.arange(x.shape[3], dtype=torch.long),
        indexing="ij",
    )
    grid_x = (grid_x + t_x) + max_t_x
    grid_y = (grid_y + t_y) + max_t_y
    x_pad = F.pad(input=x, pad=[max_t_y, max_t_y, max_t_x, max_t_x], mode="reflect")
    return x_pad.permute(0, 2, 3, 1).contiguous()[grid_batch, grid_x, grid_y].permute(0, 3, 1, 2)


def studiogan_apply_diffaug4cr(x: Tensor, flip: bool = True, translation: bool = True) -> Tensor:
    """PyTorch-StudioGAN, src/utils/cr.py apply_diffaug4cr."""
    if flip:
        x = studiogan_random_flip(x, 0.5)
    if translation:
        x = studiogan_random_translation(x, 1 / 8)
    if flip or translation:
        x = x.contiguous()
    return x


@pytest.mark.parametrize("shape", [(6, 3, 16, 24), (6, 3, 24, 16), (6, 1, 8, 8), (4, 1, 7, 9)])
def test_cr_transform_equals_studiogan_under_the_same_seed(shape) -> None:
    """PyTorch-StudioGAN, src/utils/cr.py apply_diffaug4cr: a flip, then a shift of up to
    int(H/8) rows and int(W/8) columns, each axis its own limit (on 16x24 images 2 rows and 3
    columns; the project used round(H/8) for both before), reflect padding. Gradients too."""
    x = torch.randn(shape)
    weights = torch.randn(shape)
    torch.manual_seed(4)
    ours = value_and_gradients(lambda v: (flip_and_translate(v) * weights).sum(), x)
    torch.manual_seed(4)
    theirs = value_and_gradients(lambda v: (studiogan_apply_diffaug4cr(v) * weights).sum(), x)
    assert_same(ours, theirs)
    torch.manual_seed(4)
    moved = flip_and_translate(x)
    torch.manual_seed(4)
    assert torch.equal(moved, studiogan_apply_diffaug4cr(x))


@pytest.mark.parametrize("scale", SCALES)
def test_cr_and_bcr_equal_studiogan_under_the_same_seed(scale: float) -> None:
    """PyTorch-StudioGAN, src/worker.py: cr_lambda · MSE(D(x), D(T(x))) for CR, and
    real_lambda · MSE(D(x), D(T(x))) + fake_lambda · MSE(D(G(z)), D(T(G(z)))) for bCR, T the
    src/utils/cr.py transform, reals transformed before fakes."""
    critic = Critic(scale)
    real, fake = images()
    mse = nn.MSELoss()

    def studiogan_bcr(fake_lambda: float) -> Tensor:
        real_prl = studiogan_apply_diffaug4cr(real)
        value = 10.0 * mse(critic(real), critic(real_prl))
        if fake_lambda:
            fake_prl = studiogan_apply_diffaug4cr(fake)
            value = value + fake_lambda * mse(critic(fake), critic(fake_prl))
        return value

    for fake_weight in (0.0, 5.0):
        part = Consistency(real_weight=10.0, fake_weight=fake_weight)
        assert_same(
            penalty_and_gradients(critic, partial(part.penalize, critic, real, fake, None), 8),
            penalty_and_gradients(critic, partial(studiogan_bcr, fake_weight), 8),
        )


def test_zcr_equals_studiogan_under_the_same_seed() -> None:
    """PyTorch-StudioGAN: src/utils/sample.py draws zs_eps = zs + radius · N(0, I); src/worker.py
    adds d_lambda · MSE(D(G(z)), D(G(zs_eps))) to D's loss and g_lambda · -MSE(G(z), G(zs_eps))
    to G's (MSE over all values: the project's squared distance averaged over pixels)."""
    torch.manual_seed(0)
    layer = nn.Linear(4, math.prod(IMAGE_SHAPE[1:]))

    def generate(z: Tensor) -> Tensor:
        return torch.tanh(layer(z)).view(-1, *IMAGE_SHAPE[1:])

    critic = Critic()
    noise = torch.randn(IMAGE_SHAPE[0], 4)
    latents = Latents(noise, generate)
    zcr = LatentConsistency(discriminator_weight=5.0, generator_weight=0.5, noise_std=0.05)
    mse = nn.MSELoss()
    real, _ = images()

    def studiogan_d() -> Tensor:
        zs_eps = noise + 0.05 * torch.randn(noise.shape)
        return 5.0 * mse(critic(generate(noise).detach()), critic(generate(zs_eps).detach()))

    fake = generate(noise).detach()
    assert_same(
        penalty_and_gradients(critic, lambda: zcr.penalize(critic, real, fake, None, latents), 3),
        penalty_and_gradients(critic, studiogan_d, 3),
    )
    torch.manual_seed(9)
    ours = zcr.penalize_generator(generate(noise), latents)
    ours_grads = autograd.grad(ours, list(layer.parameters()))
    torch.manual_seed(9)
    zs_eps = noise + 0.05 * torch.randn(noise.shape)
    theirs = 0.5 * -mse(generate(noise), generate(zs_eps))
    assert_same(
        (ours.detach(), ours_grads),
        (theirs.detach(), autograd.grad(theirs, list(layer.parameters()))),
    )


# --- DiffAugment and ADA ----------------------------------------------------------------------


def diffaugment_rand_brightness(x: Tensor) -> Tensor:
    return x + (torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype, device=x.device) - 0.5)


def diffaugment_rand_saturation(x: Tensor) -> Tensor:
    x_mean = x.mean(dim=1, keepdim=True)
    scale = torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype, device=x.device) * 2
    return (x - x_mean) * scale + x_mean


def diffaugment_rand_contrast(x: Tensor) -> Tensor:
    x_mean = x.mean(dim=[1, 2, 3], keepdim=True)
    scale = torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype, device=x.device) + 0.5
    return (x - x_mean) * scale + x_mean


def diffaugment_rand_translation(x: Tensor, ratio: float = 0.125) -> Tensor:
    shift_x, shift_y = int(x.size(2) * ratio + 0.5), int(x.size(3) * ratio + 0.5)
    translation_x = torch.randint(-shift_x, shift_x + 1, size=[x.size(0), 1, 1], device=x.device)
    translation_y = torch.randint(-shift_y, shift_y + 1, size=[x.size(0), 1, 1], device=x.device)
    grid_batch, grid_x, grid_y = torch.meshgrid(
        torch.arange(x.size(0), dtype=torch.long, device=x.device),
        torch.arange(x.size(2), dtype=torch.long, device=x.device),
        torch.arange(x.size(3), dtype=torch.long, device=x.device),
        indexing="ij",
    )
    grid_x = torch.clamp(grid_x + translation_x + 1, 0, x.size(2) + 1)
    grid_y = torch.clamp(grid_y + translation_y + 1, 0, x.size(3) + 1)
    x_pad = F.pad(x, [1, 1, 1, 1, 0, 0, 0, 0])
    return x_pad.permute(0, 2, 3, 1).contiguous()[grid_batch, grid_x, grid_y].permute(0, 3, 1, 2)


def diffaugment_rand_cutout(x: Tensor, ratio: float = 0.5) -> Tensor:
    cutout_size = int(x.size(2) * ratio + 0.5), int(x.size(3) * ratio + 0.5)
    offset_x = torch.randint(
        0, x.size(2) + (1 - cutout_size[0] % 2), size=[x.size(0), 1, 1], device=x.device
    )
    offset_y = torch.randint(
        0, x.size(3) + (1 - cutout_size[1] % 2), size=[x.size(0), 1, 1], device=x.device
    )
    grid_batch, grid_x, grid_y = torch.meshgrid(
        torch.arange(x.size(0), dtype=torch.long, device=x.device),
        torch.arange(cutout_size[0], dtype=torch.long, device=x.device),
        torch.arange(cutout_size[1], dtype=torch.long, device=x.device),
        indexing="ij",
    )
    grid_x = torch.clamp(grid_x + offset_x - cutout_size[0] // 2, min=0, max=x.size(2) - 1)
    grid_y = torch.clamp(grid_y + offset_y - cutout_size[1] // 2, min=0, max=x.size(3) - 1)
    mask = torch.ones(x.size(0), x.size(2), x.size(3), dtype=x.dtype, device=x.device)
    mask[grid_batch, grid_x, grid_y] = 0
    return x * mask.unsqueeze(1)


#: mit-han-lab/data-efficient-gans, DiffAugment-stylegan2-pytorch/DiffAugment_pytorch.py
#: (AUGMENT_FNS; the ratio-based sizes of the repository's newest copy).
DIFFAUGMENT_REFERENCE = {
    "color": [diffaugment_rand_brightness, diffaugment_rand_saturation, diffaugment_rand_contrast],
    "translation": [diffaugment_rand_translation],
    "cutout": [diffaugment_rand_cutout],
}
OURS = {"color": color, "translation": translation, "cutout": cutout}


@pytest.mark.parametrize("shape", [(6, 3, 16, 24), (6, 1, 8, 8), (4, 3, 9, 13)])
@pytest.mark.parametrize("policy", ["color", "translation", "cutout"])
def test_diffaugment_transforms_equal_the_reference_under_the_same_seed(policy, shape) -> None:
    """mit-han-lab/data-efficient-gans, DiffAugment-stylegan2-pytorch/DiffAugment_pytorch.py:
    rand_brightness, rand_saturation, rand_contrast; rand_translation (up to
    int(size/8 + 0.5) per axis, zero padding); rand_cutout (int(size/2 + 0.5) per axis).
    Same draws in the same order, so the same images and the same input gradients."""
    x = torch.randn(shape)
    weights = torch.randn(shape)

    def reference(v: Tensor) -> Tensor:
        for function in DIFFAUGMENT_REFERENCE[policy]:
            v = function(v)
        return v

    torch.manual_seed(6)
    ours = value_and_gradients(lambda v: (OURS[policy](v) * weights).sum(), x)
    torch.manual_seed(6)
    assert_same(ours, value_and_gradients(lambda v: (reference(v) * weights).sum(), x))


def studiogan_ada_adjust(p: float, sign_sum: float, count: float, target: float, kimg: float):
    """PyTorch-StudioGAN, src/worker.py (after StyleGAN2-ADA): heuristic = sign sum / count;
    adjust = sign(heuristic - aa_target) · count / (aa_kimg · 1000); p clamped to [0, 1]."""
    heuristic = sign_sum / count
    adjust = math.copysign(1.0, heuristic - target) * count / (kimg * 1000)
    return min(1.0, max(p + adjust, 0.0))


def test_ada_controller_equals_studiogan() -> None:
    """PyTorch-StudioGAN, src/worker.py: every aa_interval D steps p moves by
    sign(E sign(D(x)) - target) · (reals seen) / (aa_kimg · 1000), clamped to [0, 1]."""
    ada = AdaptiveAugment(interval=4, speed_images=500, target=0.6)
    source = torch.Generator().manual_seed(1)
    p, signs, count, history = 0.0, 0.0, 0.0, []
    for step in range(1, 41):
        bias = 1.0 if step <= 24 else -0.5  # D overfits, then stops
        scores = torch.randn(16, generator=source) + bias
        ada.observe(scores)
        signs, count = signs + scores.sign().sum().item(), count + scores.numel()
        if step % 4 == 0:
            p, signs, count = studiogan_ada_adjust(p, signs, count, 0.6, 0.5), 0.0, 0.0
        assert ada.probability.item() == pytest.approx(p, abs=1e-6)
        history.append(p)
    assert max(history) > 0.5 and history[-1] < max(history)  # it rose, then fell
