"""The statistics behind the report's verdicts: intervals, a rank test, Holm, seeds needed.

Every function takes values "lower is better", with a run that did not finish as +inf (see
`oriented`), so that one convention serves FID and modes captured alike and a diverged run
ranks below every finished one. Bootstrap and permutation draws come from a fixed seed: a
report, and its tests, give the same numbers every time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import combinations, pairwise

import numpy as np
from scipy import stats

ALPHA = 0.05
POWER = 0.8
LEVEL = 0.95
BOOTSTRAP_RESAMPLES = 10_000
#: Up to this many splits of two samples the test enumerates them all (an exact p-value);
#: beyond it, this many random splits.
PERMUTATIONS = 20_000
SEED = 0
#: Beyond this many seeds per loss the report just says "more than".
MOST_SEEDS = 1000


def oriented(values: Sequence[float | None], better: str) -> np.ndarray:
    """Values turned "lower is better" (a "max" metric negated); None (a run that did not
    finish) becomes +inf, worse than any finished run and tied with the other unfinished."""
    sign = 1.0 if better == "min" else -1.0
    return np.array([math.inf if v is None else sign * v for v in values], dtype=float)


def mean_interval(
    values: Sequence[float], level: float = LEVEL, seed: int = SEED
) -> tuple[float, float] | None:
    """Percentile-bootstrap interval of the mean over runs; None for fewer than two runs,
    where the spread over seeds is unknown."""
    sample = np.asarray(values, dtype=float)
    if len(sample) < 2:
        return None
    picks = np.random.default_rng(seed).integers(0, len(sample), (BOOTSTRAP_RESAMPLES, len(sample)))
    means = sample[picks].mean(axis=1)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def beats(first: np.ndarray, second: np.ndarray) -> float:
    """P(a fresh run of `first` beats one of `second`), a tie counting half: the share of
    all pairs of their runs that `first` wins (the Mann-Whitney U over n1·n2)."""
    wins = (first[:, None] < second[None, :]).mean()
    ties = (first[:, None] == second[None, :]).mean()
    return float(wins + ties / 2)


def rank_test(first: np.ndarray, second: np.ndarray, seed: int = SEED) -> float:
    """Two-sided p-value of the Mann-Whitney test by permutation: the share of splits of the
    pooled runs whose mean ranks lie as far apart as the observed ones. Exact (every split)
    up to PERMUTATIONS splits, so it holds for 3 runs, for ties and for diverged runs, where
    the normal approximation does not."""
    ranks = stats.rankdata(np.concatenate([first, second]))
    count, size = len(ranks), len(first)
    if min(size, count - size) == 0:
        return 1.0
    total = ranks.sum()

    def gap(first_sums: np.ndarray) -> np.ndarray:
        return np.abs(first_sums / size - (total - first_sums) / (count - size))

    observed = gap(ranks[:size].sum()) - 1e-9 * count  # rounding must not lose a tie
    if math.comb(count, size) <= PERMUTATIONS:
        splits = np.array(list(combinations(range(count), size)))
        return float(np.mean(gap(ranks[splits].sum(axis=1)) >= observed))
    shuffled = np.random.default_rng(seed).random((PERMUTATIONS, count)).argsort(axis=1)
    extreme = np.sum(gap(ranks[shuffled[:, :size]].sum(axis=1)) >= observed)
    return float((extreme + 1) / (PERMUTATIONS + 1))


def smallest_p(first_runs: int, second_runs: int) -> float:
    """The smallest two-sided p-value the test can give for these numbers of runs (every run
    of one better than every run of the other)."""
    return min(1.0, 2 / math.comb(first_runs + second_runs, first_runs))


def runs_to_separate(comparisons: int, alpha: float = ALPHA) -> int:
    """The fewest runs per loss with which any of `comparisons` tests can reject at all once
    Holm's strictest threshold, alpha / comparisons, applies."""
    runs = 2
    while smallest_p(runs, runs) > alpha / max(comparisons, 1):
        runs += 1
    return runs


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the given order: the family-wise error stays
    at alpha without assuming the tests are independent (they share the best loss's runs)."""
    order = np.argsort(p_values, kind="stable")
    count = len(p_values)
    adjusted = [0.0] * count
    running = 0.0
    for position, index in enumerate(order):
        running = max(running, min(1.0, (count - position) * p_values[index]))
        adjusted[index] = running
    return adjusted


def seeds_needed(
    probability: float, comparisons: int, alpha: float = ALPHA, power: float = POWER
) -> int | None:
    """Runs per loss for the test to separate two losses with `power`, if a fresh run of one
    beats the other with `probability` (Noether 1987's formula for Mann-Whitney, at Holm's
    strictest threshold), never fewer than the test can separate with at all. None when the
    two are even: no number of seeds separates them."""
    gap = abs(probability - 0.5)
    if gap < 1e-12:
        return None
    z = stats.norm.ppf(1 - alpha / (2 * max(comparisons, 1))) + stats.norm.ppf(power)
    runs = math.ceil(z**2 / (6 * gap**2))
    return max(runs, runs_to_separate(comparisons, alpha))


def mean_ranks(samples: Sequence[np.ndarray]) -> list[float]:
    """Each sample's mean rank among all runs pooled: the order of the losses, with ties and
    unfinished runs (+inf) handled as the rank test handles them."""
    pooled = stats.rankdata(np.concatenate(samples))
    bounds = np.cumsum([0, *(len(sample) for sample in samples)])
    return [float(pooled[start:end].mean()) for start, end in pairwise(bounds)]


def _best_of_k_weights(trials: int) -> np.ndarray:
    """P(the i-th lowest of `trials` values is the lowest of k drawn with replacement), as a
    (k, i) matrix for k = 1 .. trials."""
    share_above = (trials - np.arange(trials + 1)) / trials  # P(one draw is above the i-th)
    k = np.arange(1, trials + 1)[:, None]
    return share_above[None, :-1] ** k - share_above[None, 1:] ** k


def best_of_k(values: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Lucic et al.'s budget curve, exactly: the expected lowest value among k trials drawn
    at random from `values` (with replacement), k = 1 .. n, where an unfinished trial (+inf)
    yields nothing: the expectation is over the draws with a finished trial, and the second
    array is the chance that all k trials did not finish."""
    sample = np.sort(np.asarray(values, dtype=float))
    finite = np.isfinite(sample)
    weights = _best_of_k_weights(len(sample))
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = weights @ np.where(finite, sample, 0.0) / (weights @ finite)
    unfinished_share = 1 - finite.mean()
    return expected, unfinished_share ** np.arange(1, len(sample) + 1)


def best_of_k_interval(
    values: Sequence[float], level: float = LEVEL, resamples: int = 2000, seed: int = SEED
) -> tuple[np.ndarray, np.ndarray]:
    """A bootstrap interval around each point of `best_of_k`, resampling the trials."""
    sample = np.asarray(values, dtype=float)
    picks = np.random.default_rng(seed).integers(0, len(sample), (resamples, len(sample)))
    draws = np.sort(sample[picks], axis=1)
    finite = np.isfinite(draws)
    weights = _best_of_k_weights(len(sample))
    with np.errstate(invalid="ignore", divide="ignore"):
        curves = (np.where(finite, draws, 0.0) @ weights.T) / (finite @ weights.T)
        low, high = np.nanquantile(curves, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return low, high
