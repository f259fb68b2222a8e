"""What the tests share besides fixtures: short-run overrides and reading a run's CSV rows."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

from ganarena.config import CONFIG_DIR, group_options

REPO_ROOT = CONFIG_DIR.parent

#: Every loss preset, read from configs/loss/ (a new preset is tested without an edit here).
PRESETS = group_options(CONFIG_DIR, "loss")

#: Overrides that keep in-process training runs short and quiet.
FAST = [
    "logger=csv",
    "trainer.max_epochs=1",
    "+trainer.limit_train_batches=4",
    "trainer.log_every_n_steps=1",
    "trainer.enable_model_summary=false",
    "trainer.accelerator=cpu",
    "~callbacks.rich_progress_bar",
    "+trainer.enable_progress_bar=false",
    "callbacks.fid.num_samples=300",
    "callbacks.class_coverage.num_samples=300",
    "callbacks.conditional_accuracy.num_samples=300",
    "callbacks.class_fid.num_samples=300",
    # One folder for the whole session: the digits classifier the metric callbacks train
    # on first use is trained once.
    f"callbacks.metric_features.classifier_dir={tempfile.mkdtemp(prefix='ganarena-test-')}",
]


def read_metrics(run_dir: Path) -> list[dict[str, str]]:
    """The rows of a run's `csv/metrics.csv`."""
    with open(run_dir / "csv" / "metrics.csv") as handle:
        return list(csv.DictReader(handle))


def column(rows: list[dict[str, str]], key: str) -> list[float]:
    """The values of `key` in the rows that have one."""
    return [float(row[key]) for row in rows if row.get(key)]


def metric_overrides(classifier_dir: Path, samples: int = 300) -> list[str]:
    """Small sample counts and the shared classifier: metric runs stay a few seconds."""
    return [
        f"callbacks.metric_features.classifier_dir={classifier_dir}",
        f"callbacks.fid.num_samples={samples}",
        f"callbacks.class_coverage.num_samples={samples}",
    ]
