"""A run says what it is at its start, and where each setting came from (`run.json` too)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

from ganarena.provenance import trace
from ganarena.training import train

from .helpers import FAST, REPO_ROOT

TUNED = "digits_compact_adam"
DEFAULT_CHOICES = {"model": "compact", "optimizer": "adam", "data": "digits"}


def summary(caplog: pytest.LogCaptureFixture) -> str:
    (text,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("run: ")]
    return text


def test_the_default_run_names_its_tuned_file_the_data_default_and_the_loss_preset(
    compose_config, caplog, tmp_path
) -> None:
    caplog.set_level(logging.INFO, logger="ganarena")
    train(compose_config(*FAST, "loss=lsgan", output_dir=tmp_path / "run"))
    text = summary(caplog)
    assert "optimizers: G Adam lr 0.002 betas (0, 0.99)" in text
    assert (
        f"generator.lr, generator.betas, discriminator.lr, discriminator.betas: tuned ({TUNED})"
        in text
    )
    assert "model: compact, chosen by data=digits" in text
    assert "optimizer: adam, chosen by loss=lsgan" in text
    assert f"configs/tuned/{TUNED}.yaml applied; ~tuned trains the loss preset" in text
    record = json.loads((tmp_path / "run" / "run.json").read_text())["hparams"]["provenance"]
    assert record["choices"]["tuned"] == f"{TUNED} (data_model_optimizer)"
    assert record["choices"]["loss"] == "command line"
    assert record["settings"]["optimizer.generator.lr"] == f"tuned ({TUNED})"


def test_without_tuned_the_preset_runs_as_published_and_no_tuned_file_is_named(
    compose_config, caplog, tmp_path
) -> None:
    caplog.set_level(logging.INFO, logger="ganarena")
    train(compose_config(*FAST, "loss=lsgan", "~tuned", output_dir=tmp_path / "run"))
    text = summary(caplog)
    assert "optimizers: G Adam lr 0.0002 betas (0.5, 0.999)" in text
    assert "tuned settings" not in text and f"tuned ({TUNED})" not in text
    record = json.loads((tmp_path / "run" / "run.json").read_text())["hparams"]["provenance"]
    assert record["choices"]["tuned"] == "removed on the command line"
    assert not any(source.startswith("tuned") for source in record["settings"].values())


def test_a_value_set_on_the_command_line_is_named_as_such(compose_config, caplog, tmp_path):
    caplog.set_level(logging.INFO, logger="ganarena")
    overrides = ["optimizer.discriminator.lr=1e-3", "lr_schedule=constant"]
    train(compose_config(*FAST, *overrides, output_dir=tmp_path / "run"))
    text = summary(caplog)
    assert "D Adam lr 0.001" in text and "discriminator.lr: command line" in text
    assert "learning rates: constant  [lr_schedule: command line]" in text


def test_a_later_config_wins_over_a_tuned_file_as_in_the_defaults_list() -> None:
    choices = {**DEFAULT_CHOICES, "tuned": TUNED, "lr_schedule": "constant"}
    settings = trace(choices, ["lr_schedule=constant"]).settings
    assert settings["lr_schedule._target_"] == "lr_schedule (constant)"
    assert settings["trainer.max_epochs"] == f"tuned ({TUNED})"


def test_a_sweep_prints_one_line_per_job_and_each_jobs_summary_in_its_log(tmp_path) -> None:
    sweep = tmp_path / "sweep"
    command = [sys.executable, "src/train.py", "-m", "loss=minimax,lsgan", *FAST]
    result = subprocess.run(
        [*command, f"hydra.sweep.dir={sweep}"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    console = result.stdout + result.stderr
    assert console.count("its summary is in") == 2 and "  networks:" not in console
    for job in ("0", "1"):
        assert "  networks: G InfoGANGenerator" in (sweep / job / "train.log").read_text()


def test_the_report_names_the_tuned_file_instead_of_its_values(tmp_path) -> None:
    from ganarena.report.document import shown_settings
    from ganarena.report.runs import Run

    source = f"tuned ({TUNED})"
    provenance = {"settings": {"optimizer.generator.lr": source, "trainer.max_epochs": source}}
    run = Run(tmp_path, "finished", hparams={"provenance": provenance})
    settings = {"optimizer.generator.lr": "0.002", "trainer.max_epochs": "160", "n_critic": "5"}
    assert shown_settings(settings, run) == f"`n_critic=5`, {source}"


def test_a_search_presets_values_are_its_own_even_when_chosen_on_the_command_line() -> None:
    """`hparams_search=adam` sets `optimized_metric` and interpolates hydra's choices: its
    file is read as written, not resolved."""
    choices = {**DEFAULT_CHOICES, "loss": "nonsaturating", "hparams_search": "adam"}
    provenance = trace(choices, ["hparams_search=adam"])
    assert provenance.choices["hparams_search"] == "command line"
    assert provenance.settings["optimized_metric"] == "hparams_search (adam)"
    assert not any(key.startswith("hydra.") for key in provenance.settings)
