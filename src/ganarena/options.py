"""Checks of the options a user sets, so a bad value fails where it is given, in one line.

Every check names the option as the user knows it (a config key such as `data.batch_size`,
or a part and its argument such as `GradientPenalty weight`), the value it got and a value
that works. They are called from constructors, so a bad value stops the run before training.
"""

from __future__ import annotations

from collections.abc import Sequence

from ganarena.errors import GanArenaError


def _fail(name: str, rule: str, value: object, fix: object) -> GanArenaError:
    """A config key gets the override that fixes it; a part's argument, the value to give."""
    is_config_key = " " not in name and "." in name
    remedy = f"set {name}={fix}" if is_config_key else f"set it to {fix}"
    return GanArenaError(f"{name} must be {rule}, got {value!r}: {remedy}")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def require_int(name: str, value: object, fix: object = 0) -> int:
    """An integer (a seed); a float or a bool is refused rather than silently truncated."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(name, "an integer", value, fix)
    return value


def require_positive_int(name: str, value: object, fix: object = 1) -> int:
    """A count or a size: torch would build a degenerate layer or loader from 0."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(name, "a positive integer", value, fix)
    return value


def require_non_negative_int(name: str, value: object, fix: object = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(name, "an integer >= 0", value, fix)
    return value


def require_positive(name: str, value: object, fix: object) -> float:
    """A scale that must be above zero (a clip bound of 0 zeroes the whole network)."""
    if not _is_number(value) or not value > 0:
        raise _fail(name, "> 0", value, fix)
    return float(value)


def require_non_negative(name: str, value: object, fix: object) -> float:
    """A weight: a negative one would reward the very thing its term penalises (0 turns it off)."""
    if not _is_number(value) or not value >= 0:
        raise _fail(name, ">= 0", value, fix)
    return float(value)


def require_fraction(name: str, value: object, fix: object) -> float:
    """A value in [0, 1], such as a ratio or a probability."""
    if not _is_number(value) or not 0 <= value <= 1:
        raise _fail(name, "in [0, 1]", value, fix)
    return float(value)


def require_choice(name: str, value: object, choices: Sequence[str]) -> str:
    """A name out of `choices`, listed so that the user can pick one."""
    if value not in choices:
        raise GanArenaError(f"unknown {name} {value!r}: set {name} to one of {', '.join(choices)}")
    return str(value)
