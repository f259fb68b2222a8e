"""The compared options ranked on one metric: ordered, then grouped into tiers by a rank test.

A tier is a leader and every option the test cannot tell from it: the best tier is the best
option and those not separated from it; the next tier starts at the best of the rest. A run
that did not finish counts as worse than every finished run (see `statistics.oriented`), so
an option that diverged on 2 of 5 seeds is never ranked on its 3 survivors alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from ganarena.report import statistics as st
from ganarena.report.runs import Run


def outcomes(runs: Sequence[Run], metric: str, which: str, better: str) -> list[float | None]:
    """A value per run that the ranking counts: the figure of a finished run, None for a run
    that did not finish; a finished run that never logged the metric is left out."""
    counted: list[float | None] = []
    for run in runs:
        if run.status != "finished":
            counted.append(None)
            continue
        value = run.best(metric, better) if which == "best" else run.last(metric)
        if value is not None and not math.isnan(value):
            counted.append(value)
    return counted


@dataclass
class Standing:
    """One option in a ranking: its runs, its tier and its test against its tier's leader."""

    option: str
    runs: int
    unfinished: int
    mean_rank: float
    tier: int | None = None
    #: The option it was tested against: the best, or the leader of the tier it fell to.
    against: str | None = None
    #: P(a fresh run of this option beats one of `against`), ties counting half.
    beats: float | None = None
    p_value: float | None = None
    p_holm: float | None = None


@dataclass
class Pair:
    """Two options the ranking does not separate, and how many seeds would."""

    first: str
    second: str
    #: P(a fresh run of `first` beats one of `second`).
    beats: float
    #: Runs per option for 80% power at this probability; None if they are even.
    seeds_needed: int | None


@dataclass
class Ranking:
    better: str
    standings: list[Standing]
    ranked: bool
    #: Tests against the best: Holm corrects for this many.
    comparisons: int
    #: When not ranked: the fewest runs per option with which the test could separate any.
    runs_needed: int | None = None
    pairs: list[Pair] = field(default_factory=list)

    def tier(self, number: int) -> list[Standing]:
        return [standing for standing in self.standings if standing.tier == number]

    def as_dict(self) -> dict[str, Any]:
        return {
            "better": self.better,
            "ranked": self.ranked,
            "comparisons": self.comparisons,
            "runs_needed": self.runs_needed,
            "standings": [asdict(standing) for standing in self.standings],
            "pairs": [asdict(pair) for pair in self.pairs],
        }


def compare_with_leader(leader: Standing, others: list[Standing], samples: dict[str, np.ndarray]):
    """Each of `others` against `leader`: P(it beats the leader), its p-value and Holm's."""
    p_values = [st.rank_test(samples[leader.option], samples[o.option]) for o in others]
    for other, p_value, adjusted in zip(others, p_values, st.holm(p_values), strict=True):
        other.against = leader.option
        other.beats = st.beats(samples[other.option], samples[leader.option])
        other.p_value, other.p_holm = p_value, adjusted


def assign_tiers(order: list[Standing], samples: dict[str, np.ndarray]) -> None:
    """Tier 1 is the leader and every option the test cannot tell from it; the rest are
    ranked again from their own leader, each step with Holm's correction for its tests."""
    remaining, tier = order, 1
    while remaining:
        leader, others = remaining[0], remaining[1:]
        compare_with_leader(leader, others, samples)
        leader.tier = tier
        for other in others:
            if other.p_holm > st.ALPHA:
                other.tier = tier
        remaining = [other for other in others if other.tier is None]
        tier += 1


def too_few_runs(order: list[Standing]) -> bool:
    """Whether no test against the best could reject, whatever the runs measured."""
    threshold = st.ALPHA / (len(order) - 1)
    best = order[0].runs
    return all(st.smallest_p(best, other.runs) > threshold for other in order[1:])


def pair(first: str, second: str, samples: dict[str, np.ndarray], comparisons: int) -> Pair:
    """P(the first beats the second) and the seeds per option that would separate them."""
    probability = st.beats(samples[first], samples[second])
    return Pair(first, second, probability, st.seeds_needed(probability, comparisons))


def rank(counted: dict[str, list[float | None]], better: str) -> Ranking:
    """Order the options by the mean rank of their runs among all runs, then tier them."""
    samples = {option: st.oriented(values, better) for option, values in counted.items() if values}
    ranks = st.mean_ranks(list(samples.values()))
    standings = [
        Standing(option, len(samples[option]), counted[option].count(None), mean_rank)
        for option, mean_rank in zip(samples, ranks, strict=True)
    ]
    order = sorted(standings, key=lambda standing: standing.mean_rank)
    comparisons = len(order) - 1
    if comparisons < 1:
        return Ranking(better, order, ranked=False, comparisons=0)
    if too_few_runs(order):
        compare_with_leader(order[0], order[1:], samples)
        pairs = [pair(order[0].option, o.option, samples, comparisons) for o in order[1:]]
        needed = st.runs_to_separate(comparisons)
        return Ranking(better, order, False, comparisons, needed, pairs)
    assign_tiers(order, samples)
    order.sort(key=lambda standing: (standing.tier, standing.mean_rank))
    best_tier = [standing.option for standing in order if standing.tier == 1]
    pairs = [pair(a, b, samples, comparisons) for a, b in combinations(best_tier, 2)]
    return Ranking(better, order, True, comparisons, None, pairs)
