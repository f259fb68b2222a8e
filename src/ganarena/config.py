"""Where the configs are, a one-line check of the group choices on a command line, and the
composed config of a job outside Hydra's app (tests, benchmarks, notebooks)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig, open_dict

from ganarena.errors import GanArenaError

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"


def compose_job(
    overrides: Sequence[str], output_dir: Path, config_name: str = "train"
) -> DictConfig:
    """`configs/<config_name>.yaml` composed as `src/<config_name>.py <overrides>` would, with
    the job's outputs in `output_dir`, and Hydra's runtime config set as in a run (what the
    job reads: its overrides, its choices, its folder)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose(config_name, overrides=list(overrides), return_hydra_config=True)
    with open_dict(cfg):
        cfg.paths.root_dir = str(CONFIG_DIR.parent)
        cfg.paths.output_dir = str(output_dir)
        cfg.hydra.runtime.output_dir = str(output_dir)
        cfg.hydra.job.num = 0
    HydraConfig.instance().set_config(cfg)
    return cfg


def group_options(config_dir: Path, group: str) -> list[str]:
    return sorted(path.stem for path in (config_dir / group).glob("*.yaml"))


def check_group_choices(overrides: Sequence[str], config_dir: Path = CONFIG_DIR) -> None:
    """Fail with one line when a command-line override names an option a group lacks.

    Hydra's own message spans a dozen lines and a search path; this names the group, the
    bad choice and every valid one. Sweeps (`loss=a,b`) are checked choice by choice.
    """
    for override in overrides:
        key, sep, value = override.partition("=")
        key = key.lstrip("+~").removeprefix("override ").strip()
        if not sep or "." in key or key.startswith("hydra") or not (config_dir / key).is_dir():
            continue
        options = group_options(config_dir, key)
        for choice in _sweep_choices(value):
            if choice not in options and choice != "null":
                raise GanArenaError(
                    f"unknown {key} '{choice}': choose one of {', '.join(options)} ({key}=NAME)"
                )


def _sweep_choices(value: str) -> list[str]:
    value = value.strip()
    if value.startswith(("choice(", "range(", "glob(", "[", "${")):
        return []  # sweep functions and interpolations: leave them to Hydra
    return [choice.strip().strip("'\"") for choice in value.split(",") if choice.strip()]
