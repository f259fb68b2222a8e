"""Learning-rate schedules: exact factors, a run's learning rates, resume, the tuned default."""

from __future__ import annotations

import pytest
import torch

from ganarena.errors import GanArenaError
from ganarena.run_record import group_choices
from ganarena.schedules import Constant, LinearDecay
from ganarena.training import train

from .helpers import FAST, STEPS, column, last, read_metrics

#: A run of the loss preset's own optimizer (no tuned settings) with the linear decay.
DECAYED = ["~tuned", "lr_schedule=linear_decay"]


def test_linear_decay_over_the_whole_run_gives_exact_factors() -> None:
    decay = LinearDecay()
    assert [decay.factor(step, 4) for step in range(5)] == [1.0, 0.75, 0.5, 0.25, 0.0]


def test_linear_decay_from_half_way_holds_then_falls_to_zero() -> None:
    decay = LinearDecay(start=0.5)
    factors = [decay.factor(step, 10) for step in range(11)]
    assert factors[:6] == [1.0] * 6
    assert factors[6:] == pytest.approx([0.8, 0.6, 0.4, 0.2, 0.0])
    assert Constant().factor(7, 10) == 1.0


@pytest.mark.parametrize("start", [1.0, -0.1, "half", True])
def test_a_start_outside_the_run_is_one_line(start) -> None:
    with pytest.raises(GanArenaError, match=r"lr_schedule\.start must be a fraction .* set"):
        LinearDecay(start=start)


def test_a_run_sets_each_steps_learning_rate_from_the_schedule(compose_config, tmp_path) -> None:
    """train_steps=4: steps 1..4 train at 1, 3/4, 1/2, 1/4 of the preset's lr (2e-4)."""
    train(compose_config(*FAST, *DECAYED, "train_steps=4", output_dir=tmp_path / "run"))
    assert column(read_metrics(tmp_path / "run"), "train/lr_factor") == [1.0, 0.75, 0.5, 0.25]
    state = torch.load(last(tmp_path / "run"), weights_only=True)["optimizer_states"]
    assert [s["param_groups"][0]["lr"] for s in state] == pytest.approx([5e-5, 5e-5])


def test_the_length_comes_from_the_epochs_when_no_steps_are_set(compose_config, tmp_path) -> None:
    """2 epochs of 4 batches (FAST's limit): 8 training steps, the factor falls by 1/8."""
    cfg = compose_config(*FAST, *DECAYED, "trainer.max_epochs=2", output_dir=tmp_path / "run")
    train(cfg)
    factors = column(read_metrics(tmp_path / "run"), "train/lr_factor")
    assert factors == pytest.approx([1 - step / 8 for step in range(8)])


def test_a_run_of_unknown_length_cannot_decay(compose_config, tmp_path) -> None:
    cfg = compose_config(*FAST, *DECAYED, "trainer.max_epochs=-1", output_dir=tmp_path / "run")
    with pytest.raises(GanArenaError, match="schedule needs the run's length: set train_steps"):
        train(cfg)


def test_a_run_resumed_with_a_longer_plan_continues_on_that_plans_curve(
    compose_config, tmp_path
) -> None:
    """No scheduler state: after a stop at step 3 of a 3-step plan, the resumed 8-step run
    trains steps 4..8 at the 8-step curve's factors. (Resume within one plan is bit-identical:
    test_resume's SIGTERM test runs the default run, whose tuned settings decay.)"""
    common = [*STEPS, *DECAYED, "+trainer.limit_train_batches=4"]
    run = tmp_path / "run"
    train(compose_config(*common, "train_steps=3", output_dir=run))
    train(compose_config(*common, "train_steps=8", "resume=auto", output_dir=run))
    factors = column(read_metrics(run), "train/lr_factor")
    assert factors == pytest.approx([1, 2 / 3, 1 / 3, 5 / 8, 4 / 8, 3 / 8, 2 / 8, 1 / 8])


def test_the_default_digits_run_gets_the_tuned_settings(compose_config) -> None:
    cfg = compose_config()
    assert cfg.hydra.runtime.choices.tuned == "digits_compact_adam"
    assert cfg.model.generator._target_ == "ganarena.networks.InfoGANGenerator"
    assert cfg.optimizer.generator.lr == cfg.optimizer.discriminator.lr == 2e-3
    assert list(cfg.optimizer.generator.betas) == [0.0, 0.99]
    assert cfg.lr_schedule._target_ == "ganarena.schedules.LinearDecay"
    assert cfg.trainer.max_epochs == 160


@pytest.mark.parametrize(
    ("overrides", "lr", "schedule"),
    [
        (["loss=wgan"], 5e-5, None),  # RMSprop: no tuned settings for it
        (["model=dcgan"], 2e-4, None),
        (["~tuned"], 2e-4, None),
        (["lr_schedule=constant"], 2e-3, "ganarena.schedules.Constant"),
        (["optimizer.generator.lr=1e-4"], 1e-4, "ganarena.schedules.LinearDecay"),
    ],
    ids=["other-optimizer", "other-model", "untuned", "constant", "own-lr"],
)
def test_the_command_line_and_other_choices_win_over_the_tuned_settings(
    compose_config, overrides, lr, schedule
) -> None:
    cfg = compose_config(*overrides)
    assert cfg.optimizer.generator.lr == lr
    assert (cfg.get("lr_schedule") or {}).get("_target_") == schedule


def test_a_run_records_the_tuned_settings_only_when_they_applied(compose_config) -> None:
    """Hydra records an optional group's choice even when no file has it."""
    assert group_choices(compose_config())["tuned"] == "digits_compact_adam"
    assert "tuned" not in group_choices(compose_config("model=dcgan"))
