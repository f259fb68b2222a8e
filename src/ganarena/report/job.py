"""The `src/report.py` job: a study's runs into `report.md`, `report.json` and PNG figures."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig

from ganarena.report import statistics as st
from ganarena.report.document import report_markdown
from ganarena.report.figures import slug, table_figures
from ganarena.report.runs import Run, find_runs
from ganarena.report.search_record import read_searches
from ganarena.report.summary import RUN_FIGURES, Table, tables

log = logging.getLogger(__name__)


def study_dirs(value: Any) -> list[Path]:
    """`study_dir=DIR` or `study_dir=[DIR1,DIR2]`."""
    values = list(value) if isinstance(value, ListConfig | list | tuple) else [value]
    return [Path(str(item)).expanduser() for item in values]


def study_names(runs: Sequence[Run]) -> list[str]:
    names = [(run.config.get("study") or {}).get("name") for run in runs]
    return list(dict.fromkeys(name for name in names if name))


def compared_group(runs: Sequence[Run], default: str) -> str:
    """The config group a study compares (`study.compares`), the same for all its runs."""
    chosen = {(run.config.get("study") or {}).get("compares") for run in runs} - {None}
    return chosen.pop() if len(chosen) == 1 else default


def table_names(made: Sequence[Table]) -> list[str]:
    """A file-name part per table: its data set, numbered when a data set has several."""
    names = [slug(table.data) for table in made]
    return [
        f"{n}_{names[:i].count(n) + 1}" if names.count(n) > 1 else n for i, n in enumerate(names)
    ]


def make_report(cfg: DictConfig) -> Path:
    directories = study_dirs(cfg.study_dir)
    warnings: list[str] = []
    runs = find_runs(directories, warnings)
    compares = cfg.get("compares") or compared_group(runs, "loss")
    folder = Path(cfg.get("output_dir") or directories[0])
    folder.mkdir(parents=True, exist_ok=True)
    made = tables(runs, compares, warnings)
    drawn = [
        (table, table_figures(table, folder, name))
        for table, name in zip(made, table_names(made), strict=True)
    ]
    names = study_names(runs)
    title = f"Study report: {', '.join(names)}" if names else "Study report"
    listed = ",".join(str(d) for d in directories)
    command = f"python src/report.py study_dir={listed if len(directories) == 1 else f'[{listed}]'}"
    searches = read_searches(directories, warnings)
    markdown = report_markdown(title, command, runs, drawn, warnings, compares, folder, searches)
    (folder / "report.md").write_text(markdown)
    content = {**as_json(runs, made, warnings), "searches": searches}
    (folder / "report.json").write_text(json.dumps(content, indent=2))
    for warning in warnings:
        log.warning("%s", warning)
    if wants_wandb(cfg.get("wandb", "auto"), runs):
        log_tables_to_wandb(made, compares, runs, names[0] if names else folder.name, folder)
    log.info("report of %d runs written to %s", len(runs), folder / "report.md")
    return folder / "report.md"


def as_json(runs: Sequence[Run], made: Sequence[Table], warnings: Sequence[str]) -> dict:
    return {
        "method": {
            "interval": f"{st.LEVEL:.0%} percentile bootstrap of the mean over finished runs",
            "bootstrap_resamples": st.BOOTSTRAP_RESAMPLES,
            "test": "two-sided Mann-Whitney, permutation p-values (exact up to "
            f"{st.PERMUTATIONS} splits), against the tier's leader, Holm-corrected",
            "alpha": st.ALPHA,
            "unfinished_runs": "rank below every finished run; left out of the intervals",
            "seeds_needed": f"runs per option for {st.POWER:.0%} power (Noether's formula)",
            "seed": st.SEED,
        },
        "tables": [table.as_dict() for table in made],
        "runs": [
            {
                "directory": str(run.directory),
                "label": run.label,
                "status": run.status,
                "error": run.error,
                "choices": {k: v for k, v in run.hparams.items() if isinstance(v, str)},
                "seed": run.seed,
            }
            for run in runs
        ],
        "warnings": list(warnings),
    }


def wants_wandb(setting: Any, runs: Sequence[Run]) -> bool:
    """`auto`: when the runs themselves logged to W&B."""
    if str(setting).lower() == "auto":
        return any("wandb" in (run.config.get("logger") or {}) for run in runs)
    return bool(setting)


def log_tables_to_wandb(
    made: Sequence[Table], compares: str, runs: Sequence[Run], group: str, folder: Path
) -> None:
    """The tables as `wandb.Table`s in a summary run of the study's W&B group."""
    import wandb

    from ganarena.loggers import offline_reason

    loggers = [run.config.get("logger", {}).get("wandb", {}) for run in runs]
    project = next((logger.get("project") for logger in loggers if logger), "gan-arena")
    reason = offline_reason()
    summary = wandb.init(
        project=project,
        group=group,
        job_type="report",
        name=f"{group}-report",
        dir=str(folder),
        mode="offline" if reason else "online",
    )
    for table in made:
        columns, data = summary_table(table, compares)
        summary.log({f"report/{slug(table.data)}": wandb.Table(columns=columns, data=data)})
    summary.finish()


def summary_table(table: Table, compares: str) -> tuple[list[str], list[list[Any]]]:
    """A table's rows as W&B columns, with the report's own rule: each figure's mean,
    interval and median over finished runs, and its tier counting unfinished runs as worst."""
    keys = [key for key, *_ in RUN_FIGURES if key in table.rankings]
    columns = [compares, "runs", "finished", "diverged", "failed", "finished share"]
    for key in keys:
        parts = ("tier", "mean", "ci low", "ci high", "n", "median")
        columns += [f"{key} {part}" for part in parts]
    data = []
    for row in table.rows:
        counts = row.as_dict()
        cells = [row.option, *(counts[k] for k in ("runs", "finished", "diverged", "failed"))]
        cells.append(counts["finished_share"])
        for key in keys:
            tiers = {s.option: s.tier for s in table.rankings[key].standings}
            summary = row.figures.get(key) or {}
            interval = summary.get("ci95") or (None, None)
            cells += [tiers.get(row.option), summary.get("mean"), *interval, summary.get("n")]
            cells.append(summary.get("median"))
        data.append(cells)
    return columns, data
