"""A study's runs as tables: one per data set and metric protocol, a row per compared option.

Runs of different data sets or metric protocols are never mixed in one table: FID from two
feature networks, or on two sample counts, are different numbers. A row's figures (mean,
interval, median) describe its finished runs; its runs that did not finish are counted in
its finished share and, in the ranking, as worse than every finished run.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ganarena.report.ranking import Ranking, outcomes, rank
from ganarena.report.runs import Run
from ganarena.report.search import Budget, budget
from ganarena.report.statistics import mean_interval
from ganarena.report.verdict import verdict

#: The per-run figures a table reports: (column key, metric, which value of the run, better).
RUN_FIGURES = [
    ("best_fid", "val/fid", "best", "min"),
    ("final_fid", "val/fid", "last", "min"),
    ("modes", "val/modes_captured", "last", "max"),
    ("high_quality", "val/high_quality_fraction", "last", "max"),
    ("reverse_kl", "val/reverse_kl", "last", "min"),
    ("conditional_accuracy", "val/conditional_accuracy", "last", "max"),
    ("intra_fid", "val/intra_fid", "last", "min"),
    ("precision", "val/precision", "last", "max"),
    ("recall", "val/recall", "last", "max"),
]
#: Settings that differ between any two runs by nature, never "what was compared": the run's
#: name and where it writes.
IGNORED_SETTINGS = ("tags", "task_name", "logger.wandb.name", "logger.wandb.job_type")
IGNORED_SUFFIXES = ("dirpath", "save_dir", "default_root_dir", "output_dir")


def protocol(run: Run) -> str:
    """What the metrics of a run were measured with, as one readable line: FID's on images,
    mode coverage's on points."""
    callbacks = run.config.get("callbacks") or {}
    images = len(run.hparams.get("data_shape", (1, 1, 1))) == 3
    parts = []
    features = callbacks.get("metric_features") or {}
    fid = callbacks.get("fid") or {}
    if fid and images:
        name = features.get("name", "?")
        if name == "inception":
            name = f"inception-{features.get('inception_dims')}"
        real = fid.get("num_real_samples") or "as many"
        parts.append(f"FID: {name} features, {fid.get('num_samples')} samples, {real} real")
    stacked = callbacks.get("stacked_modes") or {}
    if stacked and images and run.config.get("data", {}).get("base"):
        parts.append(
            f"modes of 1,000: each channel by the grey domain classifier, "
            f"{stacked.get('num_samples')} samples"
        )
    coverage = callbacks.get("mode_coverage") or {}
    if coverage and not images:
        parts.append(
            f"modes: {coverage.get('num_samples')} samples, {coverage.get('threshold')} std"
        )
    return "; ".join(parts) or "no sample metrics"


def value_of(run: Run, metric: str, which: str, better: str) -> float | None:
    return run.best(metric, better) if which == "best" else run.last(metric)


def describe(values: Sequence[float | None]) -> dict[str, Any] | None:
    """mean, its 95% bootstrap interval, std (sample, 0 for one value), median, min and max
    of the finite values, and how many were infinite (a reverse KL of a generator that
    misses every mode)."""
    present = [v for v in values if v is not None and not math.isnan(v)]
    finite = [v for v in present if math.isfinite(v)]
    infinite = len(present) - len(finite)
    if not present:
        return None
    if not finite:
        return {"mean": math.inf, "ci95": None, "std": 0.0, "median": math.inf,
                "min": math.inf, "max": math.inf, "n": 0, "values": [],
                "infinite": infinite}  # fmt: skip
    return {
        "mean": statistics.fmean(finite),
        "ci95": mean_interval(finite),
        "std": statistics.stdev(finite) if len(finite) > 1 else 0.0,
        "median": statistics.median(finite),
        "min": min(finite),
        "max": max(finite),
        "n": len(finite),
        "values": finite,
        "infinite": infinite,
    }


def finished_mean(summary: dict[str, Any] | None) -> float | None:
    """The mean over the finished runs: infinite if one was (a reverse KL with no mode)."""
    if summary is None:
        return None
    return math.inf if summary["infinite"] else summary["mean"]


@dataclass
class Row:
    """The runs of one compared option (a loss) in one table."""

    option: str
    runs: list[Run]

    @property
    def counts(self) -> dict[str, int]:
        statuses = [run.status for run in self.runs]
        return {
            "runs": len(statuses),
            "finished": statuses.count("finished"),
            "diverged": statuses.count("diverged"),
            "failed": len(statuses) - statuses.count("finished") - statuses.count("diverged"),
        }

    @property
    def finished_runs(self) -> list[Run]:
        return [run for run in self.runs if run.status == "finished"]

    @cached_property
    def figures(self) -> dict[str, dict[str, Any]]:
        """Each figure over the finished runs (a diverged run's last FID is not its result)."""
        described = {}
        for key, metric, which, better in RUN_FIGURES:
            values = [value_of(run, metric, which, better) for run in self.finished_runs]
            summary = describe(values)
            if summary is not None:
                described[key] = summary
        for key in ("wall_time_s", "steps_per_second"):
            summary = describe([getattr(run, key) for run in self.finished_runs])
            if summary is not None:
                described[key] = summary
        return described

    def as_dict(self) -> dict[str, Any]:
        finished_share = self.counts["finished"] / max(self.counts["runs"], 1)
        return {
            "option": self.option,
            **self.counts,
            "finished_share": finished_share,
            **self.figures,
        }


@dataclass
class Table:
    data: str
    protocol: str
    rows: list[Row] = field(default_factory=list)
    #: The config group whose options the rows are.
    compares: str = "loss"

    @property
    def runs(self) -> list[Run]:
        return [run for row in self.rows for run in row.runs]

    @cached_property
    def rankings(self) -> dict[str, Ranking]:
        """A ranking per figure that any row measured, keyed as RUN_FIGURES."""
        made = {}
        for key, *figure in RUN_FIGURES:
            better = figure[-1]
            if any(key in row.figures for row in self.rows):
                counted = {row.option: outcomes(row.runs, *figure) for row in self.rows}
                made[key] = rank(counted, better)
        return made

    @cached_property
    def budgets(self) -> dict[str, Budget]:
        """The budget curve of each row that is a hyperparameter search."""
        curves = {row.option: budget(row.runs) for row in self.rows if searched(row, self.compares)}
        return {option: curve for option, curve in curves.items() if curve is not None}

    @cached_property
    def verdicts(self) -> dict[str, str]:
        """A sentence per ranking, from its numbers; the first is the table's headline."""
        made = {}
        for key, ranking in self.rankings.items():
            means = {row.option: finished_mean(row.figures.get(key)) for row in self.rows}
            made[key] = verdict(self.data, key, ranking, means)
        return made

    def rankings_as_dict(self) -> dict[str, Any]:
        """The rankings with each standing's mean, interval and median, for scripts."""
        figures = {row.option: row.figures for row in self.rows}
        made = {}
        for key, ranking in self.rankings.items():
            made[key] = ranking.as_dict()
            for standing in made[key]["standings"]:
                summary = figures[standing["option"]].get(key) or {}
                standing.update({s: summary.get(s) for s in ("n", "mean", "ci95", "median")})
        return made

    def as_dict(self) -> dict[str, Any]:
        return {
            "data": self.data,
            "protocol": self.protocol,
            "rows": [row.as_dict() for row in self.rows],
            "verdicts": self.verdicts,
            "rankings": self.rankings_as_dict(),
            "budgets": {option: curve.as_dict() for option, curve in self.budgets.items()},
        }


def tables(runs: Iterable[Run], compares: str, warnings: list[str]) -> list[Table]:
    """One table per (data set, protocol), a row per option of `compares`, in run order."""
    grouped: dict[tuple[str, str], dict[str, list[Run]]] = defaultdict(lambda: defaultdict(list))
    for run in runs:
        if not run.hparams:  # failed before it described itself: listed, but in no table
            continue
        grouped[(run.data, protocol(run))][run.choice(compares)].append(run)
    by_data = defaultdict(list)
    for data, measured in grouped:
        by_data[data].append(measured)
    for data, protocols in by_data.items():
        if len(protocols) > 1:
            warnings.append(
                f"the runs on {data} were measured with {len(protocols)} metric protocols "
                f"({' | '.join(protocols)}): each gets a table of its own, never one shared"
            )
    return [
        Table(data, measured, [Row(o, members) for o, members in options.items()], compares)
        for (data, measured), options in grouped.items()
    ]


def flatten(settings: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in settings.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def differences(runs: Sequence[Run]) -> dict[str, list[str]]:
    """Every setting whose value is not the same in all runs, with the values it takes."""
    flat = [flatten(run.config) for run in runs if run.config]
    keys = sorted({key for settings in flat for key in settings})
    differing = {}
    for key in keys:
        if key.startswith(IGNORED_SETTINGS) or key.endswith(IGNORED_SUFFIXES):
            continue
        values = [repr(settings.get(key)) for settings in flat]
        distinct = list(dict.fromkeys(values))
        if len(distinct) > 1:
            differing[key] = distinct
    return differing


def split_differences(
    runs: Sequence[Run], compares: str
) -> tuple[dict[str, list[str]], dict[str, dict[str, str]]]:
    """The differing settings in two parts: those that vary between runs of one option (the
    seed, the trials of a search), and those that come with the option itself (a loss's
    n_critic and optimizer), as option -> {setting: value}."""
    differing = differences(runs)
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        if run.config:
            groups[run.choice(compares)].append(flatten(run.config))
    within = {
        key: values
        for key, values in differing.items()
        if any(len({repr(s.get(key)) for s in members}) > 1 for members in groups.values())
    }
    by_option = {
        option: {
            key: repr(members[0].get(key))
            for key in differing
            if key not in within and members[0].get(key) is not None
        }
        for option, members in groups.items()
    }
    return within, by_option


def searched(row: Row, compares: str) -> bool:
    """Whether the runs of a row differ in more than their seed (a hyperparameter search)."""
    varying = differences(row.runs)
    return any(key not in ("seed",) and not key.startswith(compares) for key in varying)
