"""The report as Markdown: what was compared, a table per data set, figures, failed runs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ganarena.report.columns import BY_KEY, Column
from ganarena.report.ranking import Ranking
from ganarena.report.runs import Run
from ganarena.report.search_record import searches_markdown
from ganarena.report.statistics import ALPHA, BOOTSTRAP_RESAMPLES, MOST_SEEDS, POWER
from ganarena.report.summary import RUN_FIGURES, Table, flatten, split_differences, value_of

#: How the report decides, said once at its top.
METHOD = (
    "How to read it: each interval is a 95% percentile bootstrap of the mean over the runs "
    "that finished ({resamples:,} resamples; from fewer than about 5 runs it is narrower than "
    "it should be). Options are ordered by the mean rank of their runs among all runs, and "
    "each is tested against the best with a two-sided Mann-Whitney test (exact permutation "
    "p-values), Holm-corrected at the {alpha:.0%} level: the best tier is every option the "
    "test cannot tell from the best, and the next tier starts from the best of the rest. A run "
    "that diverged or failed counts in the ranking as worse than every finished run. Seeds "
    "needed: the runs per option that would separate a pair with {power:.0%} power if a fresh "
    "run of one beats the other as often as it did here (Noether's formula)."
)


def counts_markdown(table: Table, compares: str) -> str:
    """Runs per option, how they ended, and their timings."""
    heading = [compares, "runs", "finished", "diverged", "failed", "% finished"]
    timings = [BY_KEY["wall_time_s"], BY_KEY["steps_per_second"]]
    heading += [f"{column.heading} (mean ± std)" for column in timings]
    lines = ["| " + " | ".join(heading) + " |", "|" + "---|" * len(heading)]
    for row in table.rows:
        counts = row.counts
        cells = [f"`{row.option}`", *(str(counts[k]) for k in heading[1:5])]
        cells.append(f"{100 * counts['finished'] / max(counts['runs'], 1):.0f}")
        cells += [mean_std(row.figures.get(column.key), column) for column in timings]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def mean_std(summary: dict[str, Any] | None, column: Column) -> str:
    if summary is None:
        return "–"
    if not summary["n"]:
        return "inf"
    return f"{column.show(summary['mean'])} ± {column.show(summary['std'])}"


def mean_with_interval(summary: dict[str, Any] | None, column: Column) -> str:
    """`2.95 [2.91, 2.99], n=3`: the mean of the finished runs, its interval and their number,
    with the runs whose figure was infinite (a reverse KL with no mode captured)."""
    if summary is None:
        return "–"
    infinite = f" ({summary['infinite']}× inf)" if summary.get("infinite") else ""
    if not summary["n"]:
        return "inf" + infinite
    interval = summary.get("ci95")
    shown = f" [{column.show(interval[0])}, {column.show(interval[1])}]" if interval else ""
    return f"{column.show(summary['mean'])}{shown}, n={summary['n']}{infinite}"


def ranking_markdown(table: Table, key: str, compares: str) -> str:
    """One figure's ranking: the verdict, a row per option in order, and the close pairs."""
    ranking, column = table.rankings[key], BY_KEY[key]
    figures = {row.option: row.figures.get(key) for row in table.rows}
    heading = ["tier", compares, "runs", "finished", "mean [95% interval], n", "median"]
    heading += ["min to max", "tested against", "P(it wins a fresh pair of runs)", "p (Holm)"]
    lines = ["| " + " | ".join(heading) + " |", "|" + "---|" * len(heading)]
    for standing in ranking.standings:
        summary = figures[standing.option]
        spread = "–"
        if summary and summary["n"]:
            spread = f"{column.show(summary['min'])} to {column.show(summary['max'])}"
        cells = [
            str(standing.tier or "–"),
            f"`{standing.option}`",
            str(standing.runs),
            str(standing.runs - standing.unfinished),
            mean_with_interval(summary, column),
            "–" if not summary or not summary["n"] else column.show(summary["median"]),
            spread,
            f"`{standing.against}`" if standing.against else "–",
            "–" if standing.beats is None else f"{standing.beats:.2f}",
            "–" if standing.p_holm is None else f"{standing.p_holm:.3g}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    better = "lower" if ranking.better == "min" else "higher"
    parts = [f"### {column.heading} ({better} is better)", table.verdicts[key], "\n".join(lines)]
    if ranking.pairs:
        parts.append(pairs_markdown(ranking))
    return "\n\n".join(parts)


def seeds_text(seeds: int | None) -> str:
    if seeds is None:
        return "none would: they came out even"
    return f"over {MOST_SEEDS:,}" if seeds > MOST_SEEDS else str(seeds)


def pairs_markdown(ranking: Ranking) -> str:
    """The pairs a user may want to separate: within the best tier, or when the runs are too
    few to rank, the leader against each other option."""
    which = "in the best tier" if ranking.ranked else "the leader against each other option"
    lines = [
        f"Pairs, {which}: how often the first wins a fresh pair of runs, and the runs per "
        f"option that would separate them with {POWER:.0%} power.",
        "",
        "| first | second | P(first wins) | runs each for 80% power |",
        "|---|---|---|---|",
    ]
    for pair in ranking.pairs:
        lines.append(
            f"| `{pair.first}` | `{pair.second}` | {pair.beats:.2f} | "
            f"{seeds_text(pair.seeds_needed)} |"
        )
    return "\n".join(lines)


def budget_markdown(table: Table) -> str:
    """The budget curve of each search as numbers: k trials, expected best FID, interval."""
    parts = []
    for option, curve in table.budgets.items():
        steps = {k for k in (1, 2, 3, 5, 10, 20, 50, 100) if k < curve.trials}
        shown = sorted(steps | {curve.trials})
        lines = [
            f"Expected best FID of k trials drawn at random from the {curve.trials} of "
            f"`{option}` ({curve.unfinished} did not finish and give nothing):",
            "",
            "| k | expected best FID | 95% interval | P(no trial of k finished) |",
            "|---|---|---|---|",
        ]
        for k in shown:
            i = k - 1
            lines.append(
                f"| {k} | {curve.expected[i]:.2f} | {curve.low[i]:.2f} to {curve.high[i]:.2f} "
                f"| {curve.none_finished[i]:.3g} |"
            )
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def shown_settings(settings: dict[str, str], run: Run | None) -> str:
    """`key=value` for each setting, but one `tuned (<file>)` for those a tuned file set."""
    tuned = {}
    for key in settings:
        source = run.source_of(key) if run is not None else None
        if source and source.startswith("tuned ("):
            tuned[key] = source
    shown = [f"`{key}={value}`" for key, value in settings.items() if key not in tuned]
    shown += [f"{source}" for source in dict.fromkeys(tuned.values())]
    return ", ".join(shown)


def differences_markdown(runs: Sequence[Run], compares: str) -> str:
    within, by_option = split_differences(runs, compares)
    first = {}
    for run in runs:
        first.setdefault(run.choice(compares), run)
    parts = []
    if any(by_option.values()):
        lines = [f"| {compares} | its settings that differ from the others' |", "|---|---|"]
        for option, settings in by_option.items():
            shown = shown_settings(settings, first.get(option))
            lines.append(f"| `{option}` | {shown or '–'} |")
        parts.append("\n".join(lines))
    if within:
        lines = [f"| setting that varies within a {compares} | values |", "|---|---|"]
        for key, values in within.items():
            shown = ", ".join(f"`{value}`" for value in values[:8])
            more = f" and {len(values) - 8} more" if len(values) > 8 else ""
            lines.append(f"| `{key}` | {shown}{more} |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) or "Every run has the same settings."


def runs_markdown(table: Table, compares: str) -> str:
    """Every run of a table, with the settings (beyond the compared option and the seed) that
    differ between them: the trials of a search, say."""
    varying = [key for key in split_differences(table.runs, compares)[0] if key != "seed"][:6]
    figures = [(k, m, w, b) for k, m, w, b in RUN_FIGURES if any(r.series(m) for r in table.runs)]
    heading = ["run", compares, "seed", "status", *varying, *(k for k, _, _, _ in figures)]
    lines = ["| " + " | ".join(heading) + " |", "|" + "---|" * len(heading)]
    for run in table.runs:
        settings = flatten(run.config)
        cells = [f"`{run.label}`", f"`{run.choice(compares)}`", str(run.seed), run.status]
        cells += [f"{settings.get(key)}" for key in varying]
        for _, metric, which, better in figures:
            value = value_of(run, metric, which, better)
            cells.append("–" if value is None else f"{value:.4g}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def unfinished_markdown(runs: Sequence[Run], compares: str) -> str:
    unfinished = [run for run in runs if run.status != "finished"]
    if not unfinished:
        return "Every run finished."
    lines = [f"| run | {compares} | seed | status | why |", "|---|---|---|---|---|"]
    for run in unfinished:
        why = (run.error or "").replace("|", "/")
        lines.append(
            f"| `{run.label}` | `{run.choice(compares)}` | {run.seed} | {run.status} | {why} |"
        )
    return "\n".join(lines)


def verdicts_markdown(tables: Sequence[Table]) -> str:
    """The headline sentence of each table, its protocol named where a data set has several."""
    lines = []
    for table in tables:
        if not table.verdicts:
            continue
        sentence = next(iter(table.verdicts.values()))
        shared = sum(other.data == table.data for other in tables) > 1
        lines.append(f"- {sentence}" + (f" (Measured with: {table.protocol}.)" if shared else ""))
    method = METHOD.format(resamples=BOOTSTRAP_RESAMPLES, alpha=ALPHA, power=POWER)
    return "\n".join(lines or ["- No figure was measured."]) + "\n\n" + method


def report_markdown(
    title: str,
    command: str,
    runs: Sequence[Run],
    tables: Sequence[tuple[Table, list[tuple[str, Path]]]],
    warnings: Sequence[str],
    compares: str,
    folder: Path,
    searches: Sequence[dict[str, Any]] = (),
) -> str:
    finished = sum(run.status == "finished" for run in runs)
    parts = [
        f"# {title}",
        f"{len(runs)} runs ({finished} finished), written by `{command}`.",
        "## Verdict",
        verdicts_markdown([table for table, _ in tables]),
    ]
    if warnings:
        parts += ["## Warnings", "\n".join(f"- {warning}" for warning in warnings)]
    parts += searches_markdown(searches)
    parts += ["## What was compared", differences_markdown(runs, compares)]
    for table, figures in tables:
        parts += [
            f"## {table.data}",
            f"Measured with: {table.protocol}.",
            counts_markdown(table, compares),
        ]
        parts += [ranking_markdown(table, key, compares) for key in table.rankings]
        if table.budgets:
            parts += ["### What a budget of k trials buys", budget_markdown(table)]
        for caption, path in figures:
            parts.append(f"![{caption}]({os.path.relpath(path, folder)})")
        parts += [f"### Every run on {table.data}", runs_markdown(table, compares)]
    parts += ["## Runs that did not finish", unfinished_markdown(runs, compares)]
    return "\n\n".join(parts) + "\n"
