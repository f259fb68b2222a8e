"""A search's space, written in Hydra's sweep syntax (`hydra.sweeper.params` and the command
line), as Optuna distributions, and a trial's draws as Hydra overrides.

- `interval(a, b)`: a float in [a, b]; `tag(log, interval(a, b))` on a log scale;
- `range(a, b[, step])`: the integers of Python's `range` (b itself excluded), as an ordered
  integer; a range of floats or a shuffled one becomes a choice among its values;
- `choice(x, y, ...)` or `x,y,...`: one of the values;
- anything else is fixed: every trial gets that override as it was written.

A command-line sweep replaces the entry of `hydra.sweeper.params` for the same key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from ganarena.errors import GanArenaError


@dataclass
class SearchSpace:
    """What a trial samples (name -> distribution) and what every trial gets unchanged."""

    distributions: dict[str, BaseDistribution] = field(default_factory=dict)
    fixed: list[str] = field(default_factory=list)

    def overrides(self, params: Mapping[str, Any]) -> list[str]:
        """A trial's overrides: its sampled values, then the fixed ones."""
        return [f"{name}={hydra_value(value)}" for name, value in params.items()] + self.fixed


def search_space(params: Mapping[str, Any] | None, arguments: Sequence[str]) -> SearchSpace:
    """The space of `hydra.sweeper.params` (key -> sweep) with the command line on top."""
    written = [f"{key}={value}" for key, value in (params or {}).items()]
    parsed = OverridesParser.create().parse_overrides([*written, *arguments])
    by_key: dict[str, Override] = {}
    for override in parsed:
        by_key[override.get_key_element()] = override  # the later one wins, in its place
    space = SearchSpace()
    for key, override in by_key.items():
        if override.is_sweep_override():
            space.distributions[key] = distribution(override)
        else:
            space.fixed.append(override.input_line)
    return space


def distribution(override: Override) -> BaseDistribution:
    """The Optuna distribution of one sweep override."""
    sweep = override.value()
    if override.is_interval_sweep():
        return FloatDistribution(sweep.start, sweep.end, log="log" in sweep.tags)
    values = list(override.sweep_iterator())
    if not values:
        raise GanArenaError(f"'{override.input_line}' has no values: range(a, b) holds a .. b-1")
    if override.is_range_sweep() and not sweep.shuffle and all(type(v) is int for v in values):
        return IntDistribution(values[0], values[-1], step=sweep.step)
    if any(not isinstance(v, str | int | float | bool) for v in values):
        raise GanArenaError(
            f"'{override.input_line}': a choice in a search takes numbers, strings and booleans"
        )
    return CategoricalDistribution(values)


def hydra_value(value: Any) -> str:
    """`value` as the command line writes it: strings quoted, so any text survives."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return repr(value)
