"""What a run is and how it ended, in its own directory: `run.json`.

Every run logs its configuration to every logger (W&B config, CSV `hparams.yaml`,
TensorBoard hparams) and writes the same description, with its outcome, to `run.json`, so
that a study can be compared offline from the files alone (`src/report.py`). The file is
written when the run starts (status `running`) and again when it ends: `finished`,
`diverged` (a loss turned NaN), `failed` (any other error) or `interrupted`. A run killed
from outside keeps `running`, which the report counts as failed.
"""

from __future__ import annotations

import json
import logging
import platform
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from torch import nn

from ganarena.config import CONFIG_DIR
from ganarena.errors import GanArenaError
from ganarena.storage import describe, write_text_atomically

log = logging.getLogger(__name__)

RUN_FILE = "run.json"
RUN_FORMAT = "ganarena-run-1"
#: The packages whose versions change results.
VERSIONED_PACKAGES = ("torch", "lightning", "torchmetrics", "gan-arena")
#: Config nodes that say where a run is, not what it is.
NOT_SETTINGS = ("hydra", "paths")


class TrainingDiverged(GanArenaError):
    """A loss turned NaN or infinite: the run stopped, and a study counts it as diverged."""


class RunInterrupted(GanArenaError):
    """The run was asked to stop (a signal) and saved where it stopped; it can be resumed."""


def parameter_count(network: nn.Module) -> int:
    return sum(parameter.numel() for parameter in network.parameters())


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def group_choices(cfg: DictConfig) -> dict[str, str]:
    """The option chosen in each config group (`loss: lsgan`), as Hydra recorded them."""
    from hydra.core.hydra_config import HydraConfig

    if HydraConfig.initialized():
        choices = HydraConfig.get().runtime.choices
    else:
        choices = OmegaConf.select(cfg, "hydra.runtime.choices", default=None) or {}
    return {
        str(group): str(option)
        for group, option in choices.items()
        if option is not None and not str(group).startswith("hydra") and applied(group, option)
    }


def applied(group: str, option: str) -> bool:
    """Whether a choice names a config that exists: Hydra records an optional group's choice
    (`tuned: digits_dcgan_adam`, `local: default`) even when no file holds it."""
    folder = CONFIG_DIR / group
    return not folder.is_dir() or (folder / f"{option}.yaml").is_file()


def describe_run(
    cfg: DictConfig,
    generator: nn.Module,
    discriminator: nn.Module,
    data_name: str,
    data_shape: Sequence[int],
) -> dict:
    """The hyperparameters every logger gets: each group's chosen option at the top
    (`loss: lsgan`, so dashboards can group by it), the resolved settings under `config`
    (from which `eval.py` rebuilds the run), the networks' sizes and the package versions."""
    settings = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(settings, dict)
    config = {key: value for key, value in settings.items() if key not in NOT_SETTINGS}
    if "module" in cfg:  # as written: `${model.generator}` and so on, not a second copy
        config["module"] = OmegaConf.to_container(cfg.module, resolve=False)
    return {
        **group_choices(cfg),
        "data_name": data_name,
        "data_shape": list(data_shape),
        "config": config,
        "params": {
            "generator": parameter_count(generator),
            "discriminator": parameter_count(discriminator),
        },
        "versions": package_versions(),
    }


class RunRecord:
    """Writes `run.json` in `output_dir`, on rank zero only."""

    def __init__(self, output_dir: str | Path, description: Mapping[str, Any], rank_zero: bool):
        self.path = Path(output_dir) / RUN_FILE
        self.rank_zero = rank_zero
        self.content: dict[str, Any] = {
            "format": RUN_FORMAT,
            "status": "running",
            "error": None,
            "started": now(),
            "ended": None,
            "wall_time_s": None,
            "training_steps": None,
            "steps_per_second": None,
            "kimg": None,
            "hparams": dict(description),
        }
        self._clock = time.perf_counter()
        self._write(required=True)

    def end(
        self, status: str, training_steps: int, kimg: float, error: BaseException | None = None
    ) -> None:
        seconds = time.perf_counter() - self._clock
        self.content.update(
            status=status,
            error=None if error is None else f"{type(error).__name__}: {error}",
            ended=now(),
            wall_time_s=round(seconds, 3),
            training_steps=training_steps,
            steps_per_second=round(training_steps / seconds, 3) if seconds > 0 else None,
            kimg=kimg,
        )
        self._write(required=False)

    def _write(self, required: bool) -> None:
        """Write `run.json`. A refused write is one line: at the start it stops the run (which
        could write nothing else there either); at the end it is logged, so that it does not
        hide why the run ended."""
        if not self.rank_zero:
            return
        try:
            write_text_atomically(json.dumps(self.content, indent=2, default=str), self.path)
        except OSError as error:
            status = self.content["status"]
            message = f"could not write {self.path} ({describe(error)})"
            if required:
                raise GanArenaError(
                    f"{message}: make {self.path.parent} writable and free space there, or "
                    "run elsewhere with hydra.run.dir=/path/to/a/writable/folder"
                ) from None
            log.error("%s: this run's outcome (%s) is not recorded there", message, status)


def status_of(error: BaseException | None) -> str:
    """How a run that raised `error` ended (None: it finished)."""
    if error is None:
        return "finished"
    if isinstance(error, TrainingDiverged):
        return "diverged"
    if isinstance(error, RunInterrupted | KeyboardInterrupt | SystemExit):
        return "interrupted"  # SystemExit: a cluster's requeue, after the checkpoint
    return "failed"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
