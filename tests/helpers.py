"""What the tests share besides fixtures: short-run overrides and reading a run's CSV rows."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
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
    "callbacks.precision_recall.num_samples=300",
    "callbacks.stacked_modes.num_samples=300",
    # One folder for the whole session: the digits classifier the metric callbacks train
    # on first use is trained once.
    f"callbacks.metric_features.classifier_dir={tempfile.mkdtemp(prefix='ganarena-test-')}",
]

#: Short runs with their metrics on, their length set by `train_steps`: every resumable state
#: takes part.
STEPS = [o for o in FAST if "limit_train_batches" not in o and "max_epochs" not in o]


#: A run that diverges at its first step: D's learning rate 1e38, the NaN guard every step.
DIVERGES = ["optimizer.discriminator.lr=1e38", "callbacks.nan_guard.every_n_steps=1"]


def short_runs(classifier_dir: Path, data_dir: Path) -> list[str]:
    """FAST for a multirun in another process: the shared classifier, FID every 2 steps."""
    return [
        *[o for o in FAST if "classifier_dir" not in o],
        f"callbacks.metric_features.classifier_dir={classifier_dir}",
        "callbacks.fid.every_n_steps=2",
        f"paths.data_dir={data_dir}",
    ]


def run_script(script: str, *arguments: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """`python src/<script> ARGUMENTS` from the repository, offline; it must succeed."""
    env = {**os.environ, "WANDB_MODE": "offline", "PYTHONUNBUFFERED": "1"}
    result = subprocess.run(
        [sys.executable, f"src/{script}", *arguments],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def last(run: Path) -> Path:
    """A run's newest checkpoint."""
    return run / "checkpoints" / "last.ckpt"


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
        f"callbacks.precision_recall.num_samples={samples}",
    ]


def wandb_records(run_dir: Path) -> list:
    """The records of an offline W&B run, read from its `.wandb` file.

    wandb 0.31 writes no config or summary file offline; the transaction log holds them, in
    LevelDB's log format (32 KiB blocks of records, each with a 7-byte header, after a 7-byte
    file header) of `wandb_internal_pb2.Record` messages. W&B's service writes the end of a
    finished run's log after `wandb.finish` returns; `wandb.teardown` waits for it.
    """
    import struct

    import wandb
    from wandb.proto import wandb_internal_pb2

    wandb.teardown()
    (path,) = run_dir.glob("wandb/offline-run-*/run-*.wandb")
    data, position, block, pending = path.read_bytes(), 7, 32768, b""
    assert data[:4] == b":W&B", path
    records = []
    while position + 7 <= len(data):
        left = block - position % block
        if left < 7:
            position += left
            continue
        _, length, kind = struct.unpack("<IHB", data[position : position + 7])
        chunk = data[position + 7 : position + 7 + length]
        position += 7 + length
        if kind in (2, 3):  # first and middle pieces of a record that spans blocks
            pending = chunk if kind == 2 else pending + chunk
            continue
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(chunk if kind == 1 else pending + chunk)
            records.append(record)
    return records


def wandb_config(run_dir: Path) -> dict:
    """The config of an offline W&B run: what `wandb.init` and every update set."""
    import json

    config = {}
    for record in wandb_records(run_dir):
        kind = record.WhichOneof("record_type")
        items = record.run.config.update if kind == "run" else record.config.update
        if kind in ("run", "config"):
            config.update({item.key: json.loads(item.value_json) for item in items})
    return config


def wandb_summary(run_dir: Path) -> dict:
    """The last summary of an offline W&B run, by top-level key."""
    import json

    summary = {}
    for record in wandb_records(run_dir):
        if record.WhichOneof("record_type") == "summary":
            for item in record.summary.update:
                key = item.key or "/".join(item.nested_key)
                summary[key] = json.loads(item.value_json)
    return summary


class SignalAtStep:
    """A callback that sends its own process a signal at one training step: a real preemption
    (or kill) arriving mid-run, at a step the test knows."""

    def __new__(cls, step: int, signum: int):
        import os
        import signal

        import lightning.pytorch as pl

        class _Sender(pl.Callback):
            def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
                if pl_module.training_steps + 1 == step:  # the step now starting
                    os.kill(os.getpid(), signal.Signals(signum))

        return _Sender()
