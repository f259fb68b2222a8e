"""A search's own record beside its runs: the `optimization_results.yaml` its sweeper writes
(the study, how many trials ended and how, the best trial and its settings). The runs
themselves, one folder per trial, are read like any study's."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from ganarena.search import RESULTS_FILE


def read_searches(study_dirs: Iterable[Path], warnings: list[str]) -> list[dict[str, Any]]:
    """The record of every search among `study_dirs`, with its folder; studies have none."""
    searches = []
    for folder in study_dirs:
        path = folder / RESULTS_FILE
        if not path.is_file():
            continue
        try:
            record = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as error:
            warnings.append(f"{path}: not YAML ({error}); the search's summary is left out")
            continue
        searches.append({**record, "folder": str(folder)})
    return searches


def search_markdown(search: dict[str, Any]) -> str:
    """One search: its counts, the trials it ran again, and the best trial's settings."""
    name = search.get("study_name") or Path(search["folder"]).name
    counts = ", ".join(
        f"{search[key]} {key}" for key in ("complete", "failed") if search.get(key) is not None
    )
    lines = [f"Study `{name}` in `{search.get('storage') or 'memory'}`: {counts or 'no counts'}."]
    if search.get("interrupted"):
        numbers = ", ".join(str(n) for n in search["interrupted"])
        lines.append(
            f"Trials cut off when the search was stopped, marked failed and run again: {numbers}."
        )
    best = search.get("best_trial")
    metric = search.get("metric") or "value"
    if search.get("best_value") is None or not search.get("best_params"):
        lines.append("No trial completed, so there is no best one.")
        return "\n\n".join(lines)
    where = f", trial {best} (`{Path(search['folder']).name}/{best}`)" if best is not None else ""
    lines.append(f"Best `{metric}` = {search['best_value']:.4g}{where}, with:")
    table = ["| setting | value |", "|---|---|"]
    table += [f"| `{key}` | {shown(value)} |" for key, value in search["best_params"].items()]
    lines.append("\n".join(table))
    return "\n\n".join(lines)


def shown(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def searches_markdown(searches: Sequence[dict[str, Any]]) -> list[str]:
    """The report's section on its searches (none for a study)."""
    if not searches:
        return []
    return ["## The search" if len(searches) == 1 else "## The searches"] + [
        search_markdown(search) for search in searches
    ]
