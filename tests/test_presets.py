"""Every loss preset: its published defaults, real Hydra composition, and real training runs."""

from __future__ import annotations

import math

import pytest
import torch
from hydra.utils import instantiate
from torch import nn

from ganarena.config import CONFIG_DIR
from ganarena.errors import GanArenaError
from ganarena.losses import GradientPenalty, R1Penalty, R2Penalty, WeightClipping
from ganarena.losses.fgan import DIVERGENCES
from ganarena.networks import AutoencoderDiscriminator
from ganarena.training import build_module, train

from .helpers import FAST, PRESETS, read_metrics

R1_LIST = "+loss.penalties=[{_target_: ganarena.losses.R1Penalty, gamma: 10}]"
R1_NAMED = "+loss.penalties.r1={_target_: ganarena.losses.R1Penalty, gamma: 10}"


def test_the_presets_are_the_classic_twelve() -> None:
    classic = {"minimax", "nonsaturating", "lsgan", "wgan", "wgan_gp", "wgan_lp", "dragan"}
    classic |= {"began", "hinge", "hinge_ns", "ragan", "r1"}
    assert classic <= set(PRESETS)


def test_no_preset_writes_an_optimizer_block_of_its_own() -> None:
    for preset in PRESETS:
        text = (CONFIG_DIR / "loss" / f"{preset}.yaml").read_text()
        assert "\noptimizer:" not in text and "@package _global_" not in text, preset
        assert "override /optimizer@_global_.optimizer:" in text, preset


#: preset -> (loss class, n_critic, optimizer, G lr, D lr, betas, penalty/constraint settings)
DEFAULTS = {
    "minimax": ("Minimax", 1, "Adam", 2e-4, 2e-4, [0.5, 0.999], {}),
    "nonsaturating": ("NonSaturating", 1, "Adam", 2e-4, 2e-4, [0.5, 0.999], {}),
    "lsgan": ("LeastSquares", 1, "Adam", 2e-4, 2e-4, [0.5, 0.999], {}),
    "wgan": ("Wasserstein", 5, "RMSprop", 5e-5, 5e-5, None, {"clip_value": 0.01}),
    "wgan_gp": ("Wasserstein", 5, "Adam", 1e-4, 1e-4, [0.0, 0.9], {"weight": 10, "one": False}),
    "wgan_lp": ("Wasserstein", 5, "Adam", 1e-4, 1e-4, [0.0, 0.9], {"weight": 10, "one": True}),
    "dragan": ("NonSaturating", 1, "Adam", 1e-4, 1e-4, [0.5, 0.9], {"weight": 10}),
    "began": ("BEGAN", 1, "Adam", 1e-4, 1e-4, [0.5, 0.999], {"gamma": 0.75, "lambda_k": 1e-3}),
    "hinge": ("Hinge", 1, "Adam", 1e-4, 4e-4, [0.0, 0.9], {}),
    "hinge_ns": ("HingeNonSaturating", 1, "Adam", 1e-4, 4e-4, [0.0, 0.9], {}),
    "ragan": ("RelativisticAverage", 1, "Adam", 2e-4, 2e-4, [0.5, 0.999], {}),
    "r1": ("NonSaturating", 1, "RMSprop", 1e-4, 1e-4, None, {"gamma": 10}),
    "rpgan": ("RelativisticPairing", 1, "Adam", 2e-4, 2e-4, [0.0, 0.99], {}),
    "r3gan": ("RelativisticPairing", 1, "Adam", 2e-4, 2e-4, [0.0, 0.99], {"r1_r2": 0.05}),
    "rahinge": ("RelativisticAverageHinge", 1, "Adam", 2e-4, 2e-4, [0.5, 0.999], {}),
    **{
        f"fgan_{name}": ("FDivergence", 1, "Adam", 2e-4, 2e-4, [0.5, 0.999], {"f": name})
        for name in ("kl", "reverse_kl", "pearson", "hellinger", "js")
    },
}
NEW_PRESETS = ["rpgan", "r3gan", "rahinge"] + [f"fgan_{n}" for n in DIVERGENCES]


def test_every_preset_has_its_defaults_checked() -> None:
    assert set(DEFAULTS) == set(PRESETS)


@pytest.mark.parametrize("preset", list(DEFAULTS))
def test_presets_carry_their_published_defaults(compose_config, preset) -> None:
    cls, n_critic, optimizer, lr_g, lr_d, betas, extras = DEFAULTS[preset]
    cfg = compose_config(f"loss={preset}", "~tuned")  # the preset as published
    loss = instantiate(cfg.loss)
    assert type(loss).__name__ == cls and loss.n_critic == n_critic
    assert cfg.optimizer.generator._target_ == f"torch.optim.{optimizer}"
    assert (cfg.optimizer.generator.lr, cfg.optimizer.discriminator.lr) == (lr_g, lr_d)
    assert cfg.optimizer.discriminator.get("betas") == betas
    parts = [*loss.penalties, *loss.constraints]
    if "clip_value" in extras:
        assert [type(p) for p in parts] == [WeightClipping] and parts[0].clip_value == 0.01
    if "one" in extras:
        assert [type(p) for p in parts] == [GradientPenalty]
        assert parts[0].one_sided == extras["one"]
    if "weight" in extras:
        assert parts[0].weight == extras["weight"]
    if preset == "r1":
        assert [type(p) for p in parts] == [R1Penalty] and parts[0].gamma == 10
    if preset == "began":
        assert (loss.gamma, loss.lambda_k, loss.k.item()) == (0.75, 1e-3, 0.0)
    if "r1_r2" in extras:  # R3GAN: R1 and R2 with one γ
        assert [type(p) for p in parts] == [R1Penalty, R2Penalty]
        assert [p.gamma for p in parts] == [extras["r1_r2"]] * 2
    if "f" in extras:
        assert loss.divergence == extras["f"]


@pytest.mark.parametrize("data", ["digits", "ring"])
def test_began_brings_its_autoencoder_for_images_and_points(compose_config, data) -> None:
    from ganarena.data.base import GANDataModule

    cfg = compose_config("loss=began", f"data={data}")
    datamodule: GANDataModule = instantiate(cfg.data)
    module = build_module(cfg, datamodule)
    assert isinstance(module.discriminator, AutoencoderDiscriminator)
    assert module.discriminator(torch.zeros(3, *datamodule.sample_shape)).shape == (3,)
    # Initialised as its family's own discriminator: DCGAN's N(0, 0.02) for convolutions.
    first = next(m for m in module.discriminator.modules() if isinstance(m, nn.Conv2d | nn.Linear))
    assert (first.weight.std().item() < 0.03) == (data == "digits")


def all_finite(rows: list[dict[str, str]]) -> bool:
    values = [float(v) for row in rows for k, v in row.items() if k.startswith("train/") and v]
    return bool(values) and all(math.isfinite(v) for v in values)


#: A few hundred optimizer steps (n_critic D steps + 1 G step per training step) on small
#: networks: quick, but long enough for a loss to blow up. Every step is logged.
OPTIMIZER_STEPS = 480
SMALL = [
    "data=ring",
    "data.batch_size=32",
    "model.generator.hidden_dim=64",
    "model.discriminator.hidden_dim=64",
    f"trainer.max_steps={OPTIMIZER_STEPS}",
    "trainer.limit_train_batches=1.0",
    "callbacks.nan_guard.every_n_steps=20",
    "callbacks.samples.every_n_steps=0",
    "~callbacks.model_checkpoint",
]


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_trains_on_ring_without_a_non_finite_value(
    compose_config, tmp_path, preset
) -> None:
    run = tmp_path / "run"
    cfg = compose_config(*FAST, *SMALL, f"loss={preset}", output_dir=run)
    train(cfg)
    rows = read_metrics(run)
    assert len(rows) == OPTIMIZER_STEPS // (cfg.loss.n_critic + 1)
    assert all_finite(rows)


@pytest.mark.parametrize("preset", NEW_PRESETS)
def test_every_new_preset_trains_on_digits(compose_config, tmp_path, preset) -> None:
    run = tmp_path / "run"
    train(compose_config(*FAST, f"loss={preset}", output_dir=run))
    rows = read_metrics(run)
    assert rows and all_finite(rows)


def test_weight_clipping_holds_after_training(compose_config, tmp_path) -> None:
    run = tmp_path / "run"
    train(compose_config(*FAST, "loss=wgan", "data=ring", output_dir=run))
    state = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    weights = [v for k, v in state.items() if k.startswith("discriminator.")]
    assert max(w.abs().max().item() for w in weights) <= 0.01


@pytest.mark.parametrize("penalty", [R1_LIST, R1_NAMED])
def test_hinge_with_r1_from_the_command_line_trains(compose_config, tmp_path, penalty) -> None:
    run = tmp_path / "run"
    cfg = compose_config(*FAST, "loss=hinge", penalty, "data=ring", output_dir=run)
    assert [type(p) for p in instantiate(cfg.loss).penalties] == [R1Penalty]
    train(cfg)
    rows = read_metrics(run)
    assert all_finite(rows) and all(float(row["train/penalty_d"]) >= 0 for row in rows)


def test_zcr_from_the_command_line_trains_with_conditioning_and_logs_g_term(
    compose_config, tmp_path
) -> None:
    zcr = "+loss.penalties.zcr={_target_: ganarena.losses.LatentConsistency, noise_std: 0.05}"
    run = tmp_path / "run"
    train(compose_config(*FAST, "loss=hinge", zcr, "conditioning=projection", output_dir=run))
    rows = [row for row in read_metrics(run) if row.get("train/penalty_g")]
    assert rows and all_finite(rows)
    assert all(float(row["train/penalty_g"]) <= 0 <= float(row["train/penalty_d"]) for row in rows)


def test_a_penalty_is_added_to_and_removed_from_a_preset_by_name(compose_config) -> None:
    cfg = compose_config("loss=wgan_gp", R1_NAMED, "loss.penalties.gradient.weight=1")
    penalties = list(instantiate(cfg.loss).penalties)
    assert [type(p) for p in penalties] == [GradientPenalty, R1Penalty]
    assert penalties[0].weight == 1
    removed = compose_config("loss=wgan_gp", "~loss.penalties.gradient")
    assert not instantiate(removed.loss).penalties


def test_kurach_setting_nonsaturating_spectral_norm_and_gradient_penalty(compose_config) -> None:
    gp = "+loss.penalties.gp={_target_: ganarena.losses.GradientPenalty, weight: 1}"
    cfg = compose_config("loss=nonsaturating", "model.discriminator.normalization=spectral", gp)
    loss = instantiate(cfg.loss)
    assert [(type(p), p.weight) for p in loss.penalties] == [(GradientPenalty, 1.0)]
    assert cfg.model.discriminator.normalization == "spectral"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["loss=wgan", "model.discriminator.normalization=spectral"], "weight clipping and spec"),
        (
            ["loss=began", "model=dcgan", "model/discriminator=dcgan"],
            "needs an autoencoder discriminator",
        ),
        (["loss=wgan", "loss.constraints.clip.clip_value=-0.01"], "clip_value must be > 0"),
        (["loss=wgan_gp", "loss.penalties.gradient.weight=-10"], "weight must be >= 0"),
    ],
)
def test_options_that_do_not_fit_stop_with_one_line(compose_config, overrides, message) -> None:
    with pytest.raises(GanArenaError, match=message) as error:
        train(compose_config(*FAST, *overrides))
    assert "\n" not in str(error.value)


def test_batch_norm_with_a_gradient_penalty_warns_before_training(compose_config) -> None:
    from ganarena.data.base import GANDataModule

    # 16x16: two down-blocks, the second batch-normalised (an 8x8 D has a single conv block)
    cfg = compose_config(
        "loss=wgan_gp", "model.discriminator.normalization=batch", "data.image_size=16"
    )
    datamodule: GANDataModule = instantiate(cfg.data)
    with pytest.warns(UserWarning, match="batch norm"):
        build_module(cfg, datamodule)
