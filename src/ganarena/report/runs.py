"""A study's runs as the report reads them: `run.json` and `csv/metrics.csv` of each job.

Everything comes from the files the runs wrote, so a report works offline and on a copy of
the logs. A run directory is any folder under a study directory that holds a `run.json`,
or a Hydra job folder (`.hydra/`) that never wrote one (it failed before training).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ganarena.errors import GanArenaError
from ganarena.run_record import RUN_FILE

METRICS_FILE = Path("csv") / "metrics.csv"
#: How a run that never reported its end is counted: it was killed, or failed before training.
UNFINISHED = {"running": "failed", None: "failed"}


@dataclass
class Run:
    """One job of a study: its description, how it ended and its logged rows."""

    directory: Path
    status: str
    error: str | None = None
    #: The run as the report names it: its folder within the study's (`<study>/12`).
    label: str = ""
    hparams: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, float]] = field(default_factory=list)
    wall_time_s: float | None = None
    steps_per_second: float | None = None
    training_steps: int | None = None

    @property
    def config(self) -> dict[str, Any]:
        return self.hparams.get("config", {})

    def source_of(self, key: str) -> str | None:
        """Where the run's setting `key` came from when a choice other than the defaults set
        it (`tuned (digits_compact_adam)`, `command line`), from its `provenance`."""
        return self.hparams.get("provenance", {}).get("settings", {}).get(key)

    def choice(self, group: str) -> str:
        """The option the run chose in a config group (`loss` -> `lsgan`)."""
        return str(self.hparams.get(group, "?"))

    @property
    def data(self) -> str:
        """The data set, by the data module's name (`digits-8`) or the group choice."""
        return str(self.hparams.get("data_name") or self.choice("data"))

    @property
    def seed(self) -> Any:
        return self.config.get("seed")

    def series(self, key: str) -> list[tuple[int, float]]:
        """(training step, value) of every row that logged `key`."""
        return [(int(row["step"]), row[key]) for row in self.rows if key in row]

    def last(self, key: str) -> float | None:
        values = self.series(key)
        return values[-1][1] if values else None

    def best(self, key: str, summary: str = "min") -> float | None:
        values = [value for _, value in self.series(key) if math.isfinite(value)]
        if not values:
            return None
        return min(values) if summary == "min" else max(values)


def read_rows(path: Path) -> list[dict[str, float]]:
    """The CSV logger's rows as numbers, empty cells left out."""
    with open(path, newline="") as handle:
        return [
            {key: float(value) for key, value in row.items() if value not in ("", None)}
            for row in csv.DictReader(handle)
        ]


def read_run(directory: Path, warnings: list[str]) -> Run:
    record_path = directory / RUN_FILE
    if not record_path.is_file():
        warnings.append(f"{directory}: no {RUN_FILE}, the job failed before training")
        return Run(directory, status="failed", error=f"no {RUN_FILE}")
    try:
        record = json.loads(record_path.read_text())
    except json.JSONDecodeError as error:
        warnings.append(f"{directory}: {RUN_FILE} is not JSON ({error}); counted as failed")
        return Run(directory, status="failed", error=f"unreadable {RUN_FILE}")
    status = record.get("status")
    run = Run(
        directory,
        status=UNFINISHED.get(status, status),
        error=record.get("error") or (None if status != "running" else "did not finish"),
        hparams=record.get("hparams", {}),
        wall_time_s=record.get("wall_time_s"),
        steps_per_second=record.get("steps_per_second"),
        training_steps=record.get("training_steps"),
    )
    metrics = directory / METRICS_FILE
    if metrics.is_file():
        run.rows = read_rows(metrics)
    elif run.status == "finished":
        warnings.append(
            f"{directory}: no {METRICS_FILE}, so its metrics are missing (keep the csv "
            "logger on: logger=default or logger=csv)"
        )
    return run


def run_directories(study_dir: Path) -> list[Path]:
    """Job folders under `study_dir`: those with a run.json, and Hydra jobs without one."""
    found = {path.parent for path in study_dir.rglob(RUN_FILE)}
    found |= {path.parent for path in study_dir.rglob(".hydra") if path.is_dir()}
    return sorted(found, key=natural_order)


def natural_order(path: Path) -> list[tuple[int, str]]:
    """Sort key: job 2 before job 10, and numbered folders beside named ones ("a0", "10")."""
    return [(int(part), "") if part.isdigit() else (-1, part) for part in path.parts]


def find_runs(study_dirs: Iterable[Path], warnings: list[str]) -> list[Run]:
    runs = []
    for study_dir in study_dirs:
        if not study_dir.is_dir():
            raise GanArenaError(
                f"study_dir '{study_dir}' is not a folder: pass the folder a multirun wrote, "
                "e.g. study_dir=logs/studies/lucic_digits/<date>_<time>"
            )
        directories = run_directories(study_dir)
        if not directories:
            raise GanArenaError(
                f"no runs in '{study_dir}': pass the folder a multirun wrote (it holds one "
                "folder per job, each with a run.json)"
            )
        for directory in directories:
            run = read_run(directory, warnings)
            run.label = f"{study_dir.name}/{directory.relative_to(study_dir)}"
            runs.append(run)
    return runs
