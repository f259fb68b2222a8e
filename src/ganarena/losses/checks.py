"""Checks on loss options, so that a bad value fails at construction with one fixable line."""

from __future__ import annotations

from ganarena.errors import GanArenaError


def require_non_negative(owner: str, key: str, value: float, default: float) -> float:
    """Reject a negative weight: it would reward the very thing the part penalises."""
    if value < 0:
        raise GanArenaError(
            f"{owner} {key} must be >= 0, got {value}: set its {key} to {default} (0 turns it off)"
        )
    return float(value)


def require_positive(owner: str, key: str, value: float, default: float) -> float:
    """Reject a value that must be above zero (a clip bound of 0 zeroes the whole network)."""
    if value <= 0:
        raise GanArenaError(f"{owner} {key} must be > 0, got {value}: set its {key} to {default}")
    return float(value)


def require_fraction(owner: str, key: str, value: float, default: float) -> float:
    """Reject a value outside [0, 1]."""
    if not 0 <= value <= 1:
        raise GanArenaError(
            f"{owner} {key} must be in [0, 1], got {value}: set its {key} to {default}"
        )
    return float(value)
