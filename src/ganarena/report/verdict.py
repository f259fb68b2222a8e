"""One sentence per ranking, generated from its numbers: what can and cannot be told apart.

The words follow the test: "cannot be told apart" when it does not separate options, "worse"
only when it does, and "too few runs to rank" when no outcome of the runs could separate any.
"""

from __future__ import annotations

from collections.abc import Sequence

from ganarena.report.columns import BY_KEY
from ganarena.report.ranking import Ranking, Standing
from ganarena.report.statistics import ALPHA


def listing(names: Sequence[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def runs_each(ranking: Ranking) -> str:
    counts = sorted({standing.runs for standing in ranking.standings})
    each = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]} to {counts[-1]}"
    return f"{each} run{'s' if counts[-1] > 1 else ''} each"


def mean_range(key: str, standings: Sequence[Standing], means: dict[str, float | None]) -> str:
    """`mean 2.92` or `mean 2.92 to 3.16` over the standings' finished runs."""
    shown = sorted(m for s in standings if (m := means.get(s.option)) is not None)
    if not shown:
        return "no run finished"
    column = BY_KEY[key]
    if len(shown) == 1 or column.show(shown[0]) == column.show(shown[-1]):
        return f"mean {column.show(shown[0])}"
    return f"mean {column.show(shown[0])} to {column.show(shown[-1])}"


def spread_of_means(key: str, ranking: Ranking, means: dict[str, float | None]) -> str:
    """`the means run from 2.92 (wgan_gp) to 40.44 (began)`, best first, every option that
    shows the same figure named: a spread, no order claimed."""
    column = BY_KEY[key]
    shown = {
        s.option: column.show(m)
        for s in ranking.standings
        if (m := means.get(s.option)) is not None
    }
    if not shown:
        return "no run finished"
    ordered = sorted(shown, key=lambda option: means[option], reverse=ranking.better == "max")
    ends = [shown[ordered[0]], shown[ordered[-1]]]
    named = [listing([o for o in ordered if shown[o] == end]) for end in ends]
    return f"the means run from {ends[0]} ({named[0]}) to {ends[1]} ({named[1]})"


def tier_clause(key: str, ranking: Ranking, tier: int, means: dict[str, float | None]) -> str:
    members = ranking.tier(tier)
    names = listing([standing.option for standing in members])
    spread = mean_range(key, members, means)
    if tier == 1:
        verb = "is best" if len(members) == 1 else "cannot be told apart"
        return f"{names} {verb} ({spread})"
    verb = "is" if len(members) == 1 else "are"
    return f"{names} {verb} worse{' again' if tier > 2 else ''} ({spread})"


def unfinished_note(ranking: Ranking) -> str:
    counted = [s for s in ranking.standings if s.unfinished]
    if not counted:
        return ""
    shares = "; ".join(f"{s.option} {s.runs - s.unfinished} of {s.runs}" for s in counted)
    return f" Runs that did not finish rank below every finished run (finished: {shares})."


def verdict(data: str, key: str, ranking: Ranking, means: dict[str, float | None]) -> str:
    """The sentence on `key` for one data set and protocol; `means` over finished runs (inf
    where one was infinite)."""
    column = BY_KEY[key]
    better = "lower" if ranking.better == "min" else "higher"
    opening = f"On {data} ({runs_each(ranking)}), by {column.heading} ({better} is better): "
    if ranking.comparisons == 0:
        (only,) = ranking.standings
        return f"On {data} only {only.option} was run ({runs_each(ranking)}): nothing to rank."
    if not ranking.ranked:
        count = len(ranking.standings)
        which = "them" if count == 2 else f"any two of the {count}"
        return (
            opening + f"too few runs to rank: separating {which} at the {ALPHA:.0%} level after "
            f"Holm's correction takes at least {ranking.runs_needed} runs each; "
            f"{spread_of_means(key, ranking, means)}." + unfinished_note(ranking)
        )
    tiers = sorted({standing.tier for standing in ranking.standings})
    clauses = [tier_clause(key, ranking, tier, means) for tier in tiers]
    return opening + "; ".join(clauses) + "." + unfinished_note(ranking)
