"""Every option of every config group composes, resolves and instantiates; bad choices fail."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from ganarena.config import CONFIG_DIR, check_group_choices, group_options
from ganarena.errors import GanArenaError
from ganarena.losses import GANLoss

from .helpers import FAST, REPO_ROOT

GROUPS = [
    "loss",
    "optimizer",
    "model",
    "model/discriminator",
    "data",
    "conditioning",
    "module",
    "trainer",
    "lr_schedule",
    "tuned",
    "logger",
    "callbacks",
    "debug",
    "experiment",
    "study",
    "hparams_search",
]
OPTIONS = [(group, option) for group in GROUPS for option in group_options(CONFIG_DIR, group)]


@pytest.mark.parametrize(("group", "option"), OPTIONS, ids=[f"{g}={o}" for g, o in OPTIONS])
def test_every_group_option_composes_and_resolves(compose_config, group, option) -> None:
    cfg = compose_config(f"{group}={option}")
    container = OmegaConf.to_container(cfg, resolve=True)
    assert container["hydra"]["runtime"]["choices"][group] == option


@pytest.mark.parametrize("option", group_options(CONFIG_DIR, "loss"))
def test_every_loss_instantiates_with_its_optimizers(compose_config, option) -> None:
    cfg = compose_config(f"loss={option}")
    assert isinstance(instantiate(cfg.loss), GANLoss)
    parameter = torch.nn.Parameter(torch.zeros(1))
    for network in ("generator", "discriminator"):
        optimizer = instantiate(cfg.optimizer[network], _convert_="all")([parameter])
        assert optimizer.param_groups[0]["lr"] == cfg.optimizer[network].lr


def test_two_dimensional_data_switches_to_the_points_networks(compose_config) -> None:
    for data in ("ring", "grid"):
        cfg = compose_config(f"data={data}")
        assert cfg.model.generator._target_ == "ganarena.networks.MLPGenerator"
        assert cfg.model.generator.latent_dim == 2 and cfg.model.ema_decay == 0.999
    plain = compose_config("data=ring", "model=mlp")  # the command line still wins
    assert plain.model.generator.latent_dim == 16 and plain.model.ema_decay is None
    digits = "ganarena.networks.InfoGANGenerator"  # model=compact: digits.yaml picks it
    assert compose_config().model.generator._target_ == digits
    mnist = compose_config("data=mnist")  # model=compact, and configs/tuned/mnist_compact_adam
    assert mnist.model.generator._target_ == digits and mnist.model.discriminator.hidden_dim == 512
    assert mnist.optimizer.generator.lr == 2e-3 and mnist.train_steps == 12000
    assert mnist.data.batch_size == 128  # the command line still wins:
    assert compose_config("data=mnist", "data.batch_size=32").data.batch_size == 32
    dcgan = "ganarena.networks.DCGANGenerator"
    assert compose_config("data=mnist", "model=dcgan").model.generator._target_ == dcgan


def test_the_strategy_is_written_in_the_trainer_configs(compose_config) -> None:
    assert compose_config().trainer.strategy == "auto"
    assert compose_config("trainer=ddp").trainer.strategy == "gan_ddp"
    assert compose_config("trainer=ddp_cpu").trainer.strategy == "gan_ddp"


def test_several_devices_under_a_strategy_that_cannot_train_a_gan_stop_before_training(
    compose_config,
) -> None:
    from ganarena.training import train

    cfg = compose_config(*FAST, "trainer.devices=2", "trainer.strategy=ddp")
    with pytest.raises(GanArenaError, match="need the GAN data-parallel strategy") as error:
        train(cfg)
    assert "trainer.strategy=gan_ddp" in str(error.value) and "\n" not in str(error.value)


def test_no_config_names_a_resolver_of_ours() -> None:
    for path in CONFIG_DIR.rglob("*.yaml"):
        assert "gan_strategy" not in path.read_text(), path


def test_runs_go_under_logs_train_runs(compose_config) -> None:
    hydra_cfg = compose_config().hydra
    assert "/logs/train/runs/" in hydra_cfg.run.dir
    assert "/logs/train/multiruns/" in hydra_cfg.sweep.dir


def test_unknown_group_option_lists_the_options() -> None:
    with pytest.raises(GanArenaError) as error:
        check_group_choices(["loss=nope"])
    message = str(error.value)
    assert message.startswith("unknown loss 'nope': choose one of ")
    assert "minimax" in message and "nonsaturating" in message
    assert "\n" not in message


def test_group_check_covers_sweeps_and_ignores_keys() -> None:
    check_group_choices(["loss=minimax,nonsaturating", "loss.n_critic=3", "seed=1,2", "+x=1"])
    with pytest.raises(GanArenaError, match="unknown data 'mnsit'"):
        check_group_choices(["data=digits,mnsit"])
    with pytest.raises(GanArenaError, match="unknown trainer 'tpu'"):
        check_group_choices(["trainer=tpu"])


def test_train_script_rejects_unknown_loss_in_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "src/train.py", "loss=nope"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "error: unknown loss 'nope': choose one of "
        + ", ".join(group_options(CONFIG_DIR, "loss"))
        + " (loss=NAME)"
    ]
