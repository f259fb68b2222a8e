"""The report's figures, as PNG files: distributions over seeds, curves over training steps."""

from __future__ import annotations

import math
import re
import statistics
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from ganarena.report.summary import Table, value_of

DPI = 110


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _save(figure: plt.Figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    plt.close(figure)
    return path


def log_scale_for_distances(axis: plt.Axes, metric: str) -> None:
    """FIDs of one study span orders of magnitude: show them on a log scale."""
    if "fid" in metric:
        axis.set_yscale("log")


def strip_plot(table: Table, metric: str, which: str, better: str, label: str, path: Path):
    """One column per option: a box over its runs and every run as a point (Lucic et al.)."""
    options, values = [], []
    for row in table.rows:
        measured = [value_of(run, metric, which, better) for run in row.runs]
        finite = [v for v in measured if v is not None and math.isfinite(v)]
        if finite:
            options.append(row.option)
            values.append(finite)
    if not values:
        return None
    figure, axis = plt.subplots(figsize=(max(4.0, 0.8 * len(options) + 2), 3.6))
    axis.boxplot(values, widths=0.5, showfliers=False)
    axis.set_xticks(range(1, len(options) + 1), options, rotation=30, ha="right")
    for position, points in enumerate(values, start=1):
        axis.scatter([position] * len(points), points, s=18, zorder=3, color="tab:red")
    axis.set_ylabel(label)
    log_scale_for_distances(axis, metric)
    axis.set_title(f"{label} per run, {table.data}")
    return _save(figure, path)


def curves(table: Table, metric: str, label: str, path: Path) -> Path | None:
    """The mean of `metric` over each option's runs against training steps, with a band from
    the lowest to the highest run."""
    figure, axis = plt.subplots(figsize=(6.4, 3.8))
    drawn = False
    for row in table.rows:
        by_step: dict[int, list[float]] = defaultdict(list)
        for run in row.runs:
            for step, value in run.series(metric):
                if math.isfinite(value):
                    by_step[step].append(value)
        if not by_step:
            continue
        steps = sorted(by_step)
        mean = [statistics.fmean(by_step[s]) for s in steps]
        axis.plot(steps, mean, label=row.option)
        axis.fill_between(
            steps, [min(by_step[s]) for s in steps], [max(by_step[s]) for s in steps], alpha=0.2
        )
        drawn = True
    if not drawn:
        plt.close(figure)
        return None
    axis.set_xlabel("training steps (generator updates)")
    axis.set_ylabel(label)
    log_scale_for_distances(axis, metric)
    axis.set_title(f"{label}, mean over runs (band: lowest to highest), {table.data}")
    axis.legend(frameon=False, fontsize="small", ncol=2)
    return _save(figure, path)


def budget_curves(table: Table, path: Path) -> Path | None:
    """The best FID one can expect from k trials drawn at random, per option (Lucic et al.),
    with its 95% bootstrap interval as a band."""
    if not table.budgets:
        return None
    figure, axis = plt.subplots(figsize=(6.4, 3.8))
    for option, curve in table.budgets.items():
        k = range(1, curve.trials + 1)
        axis.plot(k, curve.expected, marker="o", ms=3, label=option)
        axis.fill_between(k, curve.low, curve.high, alpha=0.2)
    axis.set_xlabel("trials (k)")
    axis.set_ylabel("expected best FID of k trials")
    axis.set_title(f"What a budget of k trials buys (band: 95% interval), {table.data}")
    axis.legend(frameon=False, fontsize="small")
    return _save(figure, path)


def table_figures(table: Table, folder: Path, name: str) -> list[tuple[str, Path]]:
    """Every figure that applies to the table's data, as (caption, path); `name` tells the
    table's files apart from another table's."""
    made = []
    plans = [
        ("Best FID of each run", strip_plot, ("val/fid", "best", "min", "best FID")),
        ("FID against training steps", curves, ("val/fid", "FID")),
        ("Modes captured at the end", strip_plot, ("val/modes_captured", "last", "max", "modes")),
        (
            "High-quality share at the end",
            strip_plot,
            ("val/high_quality_fraction", "last", "max", "high-quality share"),
        ),
        ("Modes captured against training steps", curves, ("val/modes_captured", "modes")),
    ]
    for caption, draw, arguments in plans:
        path = draw(table, *arguments, folder / f"{slug(caption)}_{name}.png")
        if path is not None:
            made.append((caption, path))
    path = budget_curves(table, folder / f"expected_best_of_k_trials_{name}.png")
    if path is not None:
        made.append(("Expected best FID of k random trials", path))
    return made
