"""Where the configs are, and a one-line check of the group choices on a command line."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ganarena.errors import GanArenaError

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"


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
