"""Shared pieces of the metric tests: one digits classifier per session, CSV reading."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ganarena.data import DigitsDataModule
from ganarena.features import train_domain_classifier


def read_rows(run_dir: Path) -> list[dict[str, str]]:
    with open(run_dir / "csv" / "metrics.csv") as handle:
        return list(csv.DictReader(handle))


def column(rows: list[dict[str, str]], key: str) -> list[float]:
    return [float(row[key]) for row in rows if row.get(key)]


@pytest.fixture(scope="session")
def classifier_dir(tmp_path_factory) -> Path:
    """A digits-8 domain classifier trained once for all tests (a few seconds)."""
    folder = tmp_path_factory.mktemp("classifiers")
    train_domain_classifier(DigitsDataModule(), folder / "digits-8.pt")
    return folder


def metric_overrides(classifier_dir: Path, samples: int = 300) -> list[str]:
    """Small sample counts and the shared classifier: metric runs stay a few seconds."""
    return [
        f"callbacks.metric_features.classifier_dir={classifier_dir}",
        f"callbacks.fid.num_samples={samples}",
        f"callbacks.class_coverage.num_samples={samples}",
    ]
