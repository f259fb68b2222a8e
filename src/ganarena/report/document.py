"""The report as Markdown: what was compared, a table per data set, figures, failed runs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ganarena.report.runs import Run
from ganarena.report.search import searches_markdown
from ganarena.report.summary import RUN_FIGURES, Table, flatten, split_differences, value_of

#: Table columns after the run counts: (figure key, heading, format, scale).
COLUMNS = [
    ("best_fid", "best FID", ".2f", 1),
    ("final_fid", "final FID", ".2f", 1),
    ("modes", "modes", ".1f", 1),
    ("high_quality", "% high quality", ".1f", 100),
    ("reverse_kl", "reverse KL", ".2f", 1),
    ("conditional_accuracy", "% conditional accuracy", ".1f", 100),
    ("intra_fid", "intra-FID", ".2f", 1),
    ("precision", "precision", ".2f", 1),
    ("recall", "recall", ".2f", 1),
    ("wall_time_s", "wall time, s", ".0f", 1),
    ("steps_per_second", "steps/s", ".1f", 1),
]
#: Columns that also show the median and the minimum over runs (the distribution, not a mean).
SPREAD = ("best_fid",)


def mean_std(summary: dict[str, Any] | None, fmt: str, scale: float) -> str:
    """`mean ± std` of the finite values, and how many runs were infinite."""
    if summary is None:
        return "–"
    infinite = summary.get("infinite", 0)
    if not summary["n"]:
        return "inf"
    mean, std = summary["mean"] * scale, summary["std"] * scale
    return f"{mean:{fmt}} ± {std:{fmt}}" + (f" ({infinite}× inf)" if infinite else "")


def table_markdown(table: Table, compares: str) -> str:
    rows = [row.as_dict() for row in table.rows]
    columns = [column for column in COLUMNS if any(column[0] in row for row in rows)]
    heading = [compares, "runs", "finished", "diverged", "failed"]
    for key, title, _, _ in columns:
        heading.append(f"{title} (mean ± std)")
        if key in SPREAD:
            heading += [f"{title}: median", f"{title}: min"]
    lines = ["| " + " | ".join(heading) + " |", "|" + "---|" * len(heading)]
    for row in rows:
        cells = [f"`{row['option']}`", *(str(row[k]) for k in heading[1:5])]
        for key, _, fmt, scale in columns:
            summary = row.get(key)
            cells.append(mean_std(summary, fmt, scale))
            if key in SPREAD:
                cells += [
                    "–" if summary is None else f"{summary[stat] * scale:{fmt}}"
                    for stat in ("median", "min")
                ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def differences_markdown(runs: Sequence[Run], compares: str) -> str:
    within, by_option = split_differences(runs, compares)
    parts = []
    if any(by_option.values()):
        lines = [f"| {compares} | its settings that differ from the others' |", "|---|---|"]
        for option, settings in by_option.items():
            shown = ", ".join(f"`{key}={value}`" for key, value in settings.items())
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
    counts = {status: sum(run.status == status for run in runs) for status in ("finished",)}
    parts = [
        f"# {title}",
        f"{len(runs)} runs ({counts['finished']} finished), written by `{command}`.",
    ]
    if warnings:
        parts += ["## Warnings", "\n".join(f"- {warning}" for warning in warnings)]
    parts += searches_markdown(searches)
    parts += ["## What was compared", differences_markdown(runs, compares)]
    for table, figures in tables:
        parts += [
            f"## {table.data}",
            f"Measured with: {table.protocol}.",
            table_markdown(table, compares),
        ]
        for caption, path in figures:
            parts.append(f"![{caption}]({os.path.relpath(path, folder)})")
        parts += [f"### Every run on {table.data}", runs_markdown(table, compares)]
    parts += ["## Runs that did not finish", unfinished_markdown(runs, compares)]
    return "\n\n".join(parts) + "\n"
