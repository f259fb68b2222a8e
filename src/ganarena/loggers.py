"""A W&B logger that never blocks a run and speaks gan-arena's step vocabulary.

No account or no network means offline mode. Its x-axis is `training_step` (generator
updates), the key every logger row is written under (Lightning's `WandbLogger` calls its
axis `trainer/global_step`, which elsewhere means optimizer steps); each measured metric can
keep its best value as the run's summary (`define_summaries`), so the runs table shows it.
"""

from __future__ import annotations

import logging
import netrc
import os
import socket
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from lightning.pytorch.loggers import Logger, WandbLogger
from lightning.pytorch.utilities import rank_zero_only

from ganarena.csv_logger import CSVRowLogger

log = logging.getLogger(__name__)

DEFAULT_WANDB_HOST = "https://api.wandb.ai"
#: The x-axis of every W&B chart: the training steps done, as in every other logger's rows.
TRAINING_STEP = "training_step"
RUN_ID_FILE = "run_id"


def wandb_host() -> str:
    return urlparse(os.environ.get("WANDB_BASE_URL", DEFAULT_WANDB_HOST)).hostname or "api.wandb.ai"


def has_wandb_credentials(host: str) -> bool:
    """An API key in the environment or a `wandb login` entry in ~/.netrc."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        return netrc.netrc().authenticators(host) is not None
    except (FileNotFoundError, netrc.NetrcParseError, OSError):
        return False


def can_reach(host: str, port: int = 443, timeout: float = 3.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def offline_reason() -> str | None:
    """Why this run cannot log online, or None when it can."""
    mode = os.environ.get("WANDB_MODE", "").lower()
    if mode in {"offline", "dryrun"}:
        return "WANDB_MODE=offline"
    host = wandb_host()
    if not has_wandb_credentials(host):
        return "no W&B account (run `wandb login` or set WANDB_API_KEY)"
    if not can_reach(host):
        return f"no network to {host}"
    return None


@rank_zero_only
def _announce_offline(reason: str, save_dir: str) -> None:
    log.warning(
        "W&B is offline (%s): the run is saved in %s/wandb/; upload it later with "
        "`wandb sync %s/wandb/offline-run-*`",
        reason,
        save_dir,
        save_dir,
    )


class TrainingStepWandbLogger(WandbLogger):
    """`WandbLogger` whose rows are keyed by training steps (`TRAINING_STEP`). It keeps its
    run id in the run directory (`wandb/run_id`), so a resumed run continues the same W&B run.
    """

    _axis_defined = False
    run_id_file: Path | None = None

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        self._define_axis()
        row = dict(metrics) if step is None else {**metrics, TRAINING_STEP: step}
        self.experiment.log(row)

    @rank_zero_only
    def define_summaries(self, summaries: Mapping[str, str]) -> None:
        """Keep `min` or `max` of each metric (a glob such as `val/class_fid/*` works too)."""
        self._define_axis()
        for name, summary in summaries.items():
            self.experiment.define_metric(name, summary=summary, step_metric=TRAINING_STEP)

    def _define_axis(self) -> None:
        if not self._axis_defined:
            self.experiment.define_metric(TRAINING_STEP, hidden=True)
            self.experiment.define_metric("*", step_metric=TRAINING_STEP, step_sync=True)
            self._axis_defined = True
            if self.run_id_file is not None and not self.run_id_file.exists():
                self.run_id_file.parent.mkdir(parents=True, exist_ok=True)
                self.run_id_file.write_text(self.experiment.id)


def define_summaries(loggers: Iterable[Logger], summaries: Mapping[str, str]) -> None:
    """Tell the loggers that keep a run summary (W&B) which way each metric is better."""
    for logger in loggers:
        if isinstance(logger, TrainingStepWandbLogger):
            logger.define_summaries(summaries)


def finish_wandb_run(failed: bool) -> None:
    """End the W&B run, marked failed or not, so that the next job of a multirun starts anew."""
    try:
        import wandb
    except ImportError:  # pragma: no cover - wandb is a dependency
        return
    if wandb.run is not None:
        wandb.finish(exit_code=1 if failed else 0)


def wandb_logger(save_dir: str, offline: bool = False, **kwargs: Any) -> TrainingStepWandbLogger:
    """Build the W&B logger, falling back to offline mode instead of failing or prompting."""
    reason = "logger.wandb.offline=true" if offline else offline_reason()
    if reason is not None:
        _announce_offline(reason, save_dir)
    run_id_file = Path(save_dir) / "wandb" / RUN_ID_FILE
    if run_id_file.is_file():  # a resumed run: continue its W&B run
        kwargs = {"id": run_id_file.read_text().strip(), "resume": "allow", **kwargs}
    logger = TrainingStepWandbLogger(save_dir=save_dir, offline=reason is not None, **kwargs)
    logger.run_id_file = run_id_file
    return logger


def forget_rows_after(loggers: Iterable[Logger], step: int) -> None:
    """A resumed run's loggers forget what the run wrote after the checkpoint it resumes."""
    for logger in loggers:
        if isinstance(logger, CSVRowLogger):
            logger.forget_after(step)
