"""W&B: a real offline run on disk, and the fallback when there is no account or network."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ganarena.loggers import offline_reason, wandb_logger
from ganarena.training import train

from .helpers import FAST

NO_LOGGER = [override for override in FAST if not override.startswith("logger=")]


def test_offline_run_holds_the_metrics_and_the_sample_images(compose_config, tmp_path) -> None:
    run = tmp_path / "run"
    train(
        compose_config(
            *NO_LOGGER, "logger=wandb", "callbacks.samples.every_n_steps=2", output_dir=run
        )
    )
    (offline_run,) = (run / "wandb").glob("offline-run-*")
    assert list(offline_run.glob("*.wandb"))
    assert len(list((offline_run / "files" / "media" / "images").glob("samples_*.png"))) >= 2


@pytest.fixture
def no_account(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("WANDB_MODE", "WANDB_API_KEY", "WANDB_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc from `wandb login`


def test_no_account_logs_offline_and_says_how_to_sync(no_account, tmp_path, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="ganarena.loggers"):
        logger = wandb_logger(save_dir=str(tmp_path), project="test")
    assert logger._offline
    (message,) = [record.getMessage() for record in caplog.records]
    assert "no W&B account" in message
    assert f"wandb sync {tmp_path}/wandb/offline-run-*" in message


def test_no_network_logs_offline(no_account, offline, monkeypatch) -> None:
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    assert offline_reason() == "no network to api.wandb.ai"


def test_account_and_network_log_online(no_account, monkeypatch) -> None:
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    monkeypatch.setattr("ganarena.loggers.can_reach", lambda host: True)
    assert offline_reason() is None
