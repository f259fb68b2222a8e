"""Shared fixtures: real Hydra composition of the project's configs, into a temporary run dir."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig, open_dict

from ganarena.config import compose_job
from ganarena.data import DigitsDataModule
from ganarena.features import train_domain_classifier

# The tests' networks are tiny: one thread each is as fast, and runs well on a busy machine.
torch.set_num_threads(1)

os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")

Compose = Callable[..., DictConfig]


def compose_train_config(output_dir: Path, overrides: list[str]) -> DictConfig:
    """Compose `configs/train.yaml` as `src/train.py` would, with its outputs (and its data)
    in `output_dir`."""
    cfg = compose_job(overrides, output_dir)
    with open_dict(cfg):
        cfg.paths.data_dir = str(output_dir / "data")
    return cfg


@pytest.fixture
def compose_config(tmp_path: Path) -> Compose:
    def _compose(*overrides: str, output_dir: Path | None = None) -> DictConfig:
        return compose_train_config(output_dir or tmp_path / "run", list(overrides))

    yield _compose
    GlobalHydra.instance().clear()


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No name resolves, as on a machine without network (and no test ever downloads)."""

    def no_network(*args: object, **kwargs: object):
        raise socket.gaierror(socket.EAI_NONAME, "offline (test)")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)


@pytest.fixture(scope="session")
def classifier_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A digits-8 domain classifier trained once for all tests (a few seconds)."""
    folder = tmp_path_factory.mktemp("classifiers")
    train_domain_classifier(DigitsDataModule(), folder / "digits-8.pt")
    return folder
