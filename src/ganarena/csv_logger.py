"""The CSV logger: `csv/metrics.csv` (a row per logging step) and `csv/hparams.yaml`.

Like Lightning's `CSVLogger`, but a resumed run keeps the rows it wrote before (Lightning's
deletes the file when it starts), and `forget_after(step)` drops the rows a killed run wrote
after its last checkpoint, so the file keeps one rising step axis. Rows are appended; the
file is rewritten only when a row brings a new column.
"""

from __future__ import annotations

import csv
from argparse import Namespace
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lightning.pytorch.core.saving import save_hparams_to_yaml
from lightning.pytorch.loggers import Logger
from lightning.pytorch.utilities import rank_zero_only

METRICS_FILE = "metrics.csv"
HPARAMS_FILE = "hparams.yaml"


class CSVRowLogger(Logger):
    def __init__(self, save_dir: str, name: str = "csv", version: str = "") -> None:
        super().__init__()
        self._save_dir = str(save_dir)
        self._name = name
        self._version = version
        self.hparams: dict[str, Any] = {}
        self.pending: list[dict[str, Any]] = []
        self._columns: list[str] | None = None  # None: not yet read from the file

    @property
    def name(self) -> str:
        return self._name

    @property
    def version(self) -> str:
        return self._version

    @property
    def save_dir(self) -> str:
        return self._save_dir

    @property
    def log_dir(self) -> str:
        return str(Path(self._save_dir, self._name, self._version))

    @property
    def metrics_path(self) -> Path:
        return Path(self.log_dir) / METRICS_FILE

    @rank_zero_only
    def log_hyperparams(
        self, params: dict[str, Any] | Namespace, *args: Any, **kwargs: Any
    ) -> None:
        params = vars(params) if isinstance(params, Namespace) else params
        self.hparams.update(params)
        Path(self.log_dir).mkdir(parents=True, exist_ok=True)
        save_hparams_to_yaml(Path(self.log_dir) / HPARAMS_FILE, self.hparams)

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        self.pending.append({**metrics, "step": step})

    @rank_zero_only
    def save(self) -> None:
        if not self.pending:
            return
        columns = self._existing_columns()
        new = [key for row in self.pending for key in row if key not in columns]
        columns = columns + list(dict.fromkeys(new))
        if new or not self.metrics_path.is_file():
            self._rewrite(columns, self._rows() + self.pending)
        else:
            with open(self.metrics_path, "a", newline="") as handle:
                csv.DictWriter(handle, fieldnames=columns).writerows(self.pending)
        self._columns = columns
        self.pending = []

    @rank_zero_only
    def finalize(self, status: str) -> None:
        self.save()

    @rank_zero_only
    def forget_after(self, step: int) -> None:
        """Keep only the rows of training steps up to `step` (where a resumed run goes on)."""
        rows = self._rows()
        kept = [row for row in rows if int(float(row["step"])) <= step]
        if len(kept) < len(rows):
            self._rewrite(self._existing_columns(), kept)

    def _existing_columns(self) -> list[str]:
        if self._columns is None:
            self._columns = []
            if self.metrics_path.is_file():
                with open(self.metrics_path, newline="") as handle:
                    self._columns = next(csv.reader(handle), [])
        return list(self._columns)

    def _rows(self) -> list[dict[str, str]]:
        if not self.metrics_path.is_file():
            return []
        with open(self.metrics_path, newline="") as handle:
            return list(csv.DictReader(handle))

    def _rewrite(self, columns: list[str], rows: list[Mapping[str, Any]]) -> None:
        self.metrics_path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.metrics_path.with_name(f".{METRICS_FILE}.partial")
        with open(partial, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
        partial.replace(self.metrics_path)
