"""Checks on network options from the model config, so a bad value fails with one fixable line."""

from __future__ import annotations

from collections.abc import Sequence

from ganarena.errors import GanArenaError


def require_positive(config_key: str, value: int, suggestion: int) -> None:
    """Reject sizes below 1: torch would build a degenerate layer instead of failing."""
    if value < 1:
        raise GanArenaError(
            f"{config_key} must be at least 1, got {value}: set {config_key}={suggestion}"
        )


def require_choice(config_key: str, value: str, choices: Sequence[str]) -> None:
    """Reject a name outside `choices`, listing them so the user can pick one."""
    if value not in choices:
        raise GanArenaError(
            f"unknown {config_key} {value!r}: set {config_key} to one of {', '.join(choices)}"
        )
