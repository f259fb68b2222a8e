"""What a budget of k trials buys in a hyperparameter search (Lucic et al.'s figure), with a
bootstrap interval over the trials; a trial that did not finish is a trial that gave nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ganarena.report.ranking import outcomes
from ganarena.report.runs import Run
from ganarena.report.statistics import best_of_k, best_of_k_interval, oriented

#: The figure a search optimises: each trial's best FID, lower is better.
SEARCHED_FIGURE = ("val/fid", "best", "min")


@dataclass
class Budget:
    """The expected best FID of k random trials (k = 1 .. trials), its 95% interval, and the
    chance that none of the k finished."""

    trials: int
    unfinished: int
    expected: list[float]
    low: list[float]
    high: list[float]
    none_finished: list[float]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def budget(runs: list[Run]) -> Budget | None:
    """The budget curve of a search's trials; None with fewer than two or none finished."""
    counted = outcomes(runs, *SEARCHED_FIGURE)
    values = oriented(counted, "min")
    if len(values) < 2 or all(value is None for value in counted):
        return None
    expected, none_finished = best_of_k(values)
    low, high = best_of_k_interval(values)
    return Budget(
        trials=len(values),
        unfinished=counted.count(None),
        expected=expected.tolist(),
        low=low.tolist(),
        high=high.tolist(),
        none_finished=none_finished.tolist(),
    )
