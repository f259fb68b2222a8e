"""Augmentation of everything D sees: DiffAugment's transforms, ADA's controller, the hook."""

from __future__ import annotations

import lightning.pytorch as pl
import pytest
import torch
from torch import Tensor, nn

from ganarena.augment import AdaptiveAugment, Augment, DiffAugment
from ganarena.augment.diffaugment import cutout, translation
from ganarena.data import DigitsDataModule
from ganarena.errors import GanArenaError
from ganarena.gan_module import GANModule, critic_of
from ganarena.losses import NonSaturating, R1Penalty
from ganarena.networks import DCGANDiscriminator, DCGANGenerator

SHAPE = (1, 8, 8)


class Marker(Augment):
    """Adds 100 to every image, so a spy D can tell augmented inputs from raw ones."""

    def forward(self, images: Tensor) -> Tensor:
        return images + 100.0


class SpyDiscriminator(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inner = DCGANDiscriminator(SHAPE)
        self.seen: list[float] = []

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        self.seen.append(x.detach().min().item())
        return self.inner(x, labels)


def module(discriminator: nn.Module, augment: Augment, penalties=()) -> GANModule:
    return GANModule(
        DCGANGenerator(SHAPE, latent_dim=8),
        discriminator,
        NonSaturating(penalties=penalties),
        lambda params: torch.optim.Adam(params, 1e-4),
        lambda params: torch.optim.Adam(params, 1e-4),
        augment=augment,
    )


def test_reals_and_fakes_are_augmented_in_the_d_step_and_the_g_step(tmp_path) -> None:
    spy = SpyDiscriminator()
    trainer = pl.Trainer(
        accelerator="cpu",
        max_steps=2,  # one training step: a D update and a G update
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    trainer.fit(module(spy, Marker()), datamodule=DigitsDataModule(batch_size=4))
    assert len(spy.seen) == 3  # D step: reals, fakes; G step: fakes
    assert all(value >= 99.0 for value in spy.seen)  # every input was augmented


def test_a_penalty_differentiates_with_respect_to_the_images_before_augmentation() -> None:
    scale = 3.0

    class Scale(Augment):
        def forward(self, images: Tensor) -> Tensor:
            return scale * images

    gan = module(DCGANDiscriminator(SHAPE), Scale())
    critic = critic_of(gan.discriminator, gan.augment, None)
    x = torch.randn(4, *SHAPE, requires_grad=True)
    (before,) = torch.autograd.grad(critic(x).sum(), x)
    y = (scale * x).detach().requires_grad_(True)
    (after,) = torch.autograd.grad(gan.discriminator(y).sum(), y)
    torch.testing.assert_close(before, scale * after)  # the chain rule through T: ∇x = 3 ∇y
    penalty = R1Penalty(gamma=2.0)(critic, x, x)
    assert penalty.item() == pytest.approx(before.flatten(1).pow(2).sum(1).mean().item())


def test_translation_moves_whole_images_by_at_most_an_eighth_with_zeros_shifted_in() -> None:
    torch.manual_seed(0)
    images = torch.zeros(200, 1, 16, 16)
    images[:, :, 8, 8] = 1.0
    moved = translation(images)
    positions = moved[:, 0].nonzero()
    assert len(positions) == 200  # the lit pixel stays in the image at this distance
    assert (positions[:, 1:] - 8).abs().max() <= 2
    assert len({tuple(p) for p in positions[:, 1:].tolist()}) == 25  # all 5 x 5 shifts occur


def test_cutout_zeroes_a_square_of_half_the_size() -> None:
    torch.manual_seed(0)
    out = cutout(torch.ones(50, 1, 8, 8))
    zeros = (out == 0).flatten(1).sum(1)
    assert zeros.max() == 16 and zeros.min() >= 4  # 4 x 4, less where it crosses the border


def test_probability_zero_leaves_images_unchanged() -> None:
    images = torch.randn(8, 3, 8, 8)
    torch.testing.assert_close(DiffAugment(probability=0.0)(images), images)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: DiffAugment("color,rotate"), r"unknown transforms \['rotate'\]: choose from"),
        (lambda: DiffAugment(probability=1.5), r"augment.probability must be a probability"),
        (lambda: AdaptiveAugment(target=-0.1), r"augment.target must be a probability"),
        (lambda: AdaptiveAugment(interval=0), r"augment.interval \(0\) must be an integer"),
    ],
)
def test_bad_augmentation_settings_stop_with_one_line(build, message) -> None:
    with pytest.raises(GanArenaError, match=message):
        build()


def test_ada_probability_rises_when_d_overfits_and_falls_when_it_does_not() -> None:
    ada = AdaptiveAugment(interval=4, speed_images=64, target=0.6)
    sure = torch.ones(8)  # every real scored positive: r_t = 1 > 0.6
    for _ in range(8):
        ada.observe(sure)
    assert ada.probability.item() == pytest.approx(2 * 32 / 64)  # two updates of 4·8/64
    unsure = torch.tensor([1.0, -1.0] * 4)  # r_t = 0 < 0.6
    for _ in range(4):
        ada.observe(unsure)
    assert ada.probability.item() == pytest.approx(0.5)
    for _ in range(40):
        ada.observe(unsure)
    assert ada.probability.item() == 0.0  # clamped at 0


def test_ada_state_survives_a_checkpoint() -> None:
    ada = AdaptiveAugment(interval=4, speed_images=64)
    for _ in range(6):
        ada.observe(torch.ones(8))
    restored = AdaptiveAugment(interval=4, speed_images=64)
    restored.load_state_dict(ada.state_dict())
    assert restored.probability.item() == ada.probability.item() == 0.5
    assert restored.steps == 6 and restored.sign_sum.item() == 16.0
