"""What every entry point (`src/train.py`, `src/eval.py`, `src/train_classifier.py`) shares.

Paths in the configs are relative to the repository, wherever the command runs from; a bad
group choice stops before Hydra starts, in one line; a user-fixable error inside the job
is one line too, not a traceback.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Any

import hydra
from omegaconf import DictConfig

from ganarena.config import CONFIG_DIR, check_group_choices
from ganarena.errors import GanArenaError

log = logging.getLogger("ganarena")


def run_job(job: Callable[[DictConfig], Any], config_name: str) -> None:
    """Compose `configs/<config_name>.yaml` with the command line and run `job` on it."""
    os.environ.setdefault("GANARENA_ROOT", str(CONFIG_DIR.parent))
    try:
        check_group_choices(sys.argv[1:])
    except GanArenaError as error:
        sys.exit(f"error: {error}")

    @hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name=config_name)
    def main(cfg: DictConfig) -> Any:
        try:
            return job(cfg)
        except Exception as error:
            if in_multirun():
                return failed_job(error)
            if isinstance(error, GanArenaError):
                log.error("error: %s", error)
                sys.exit(2)
            raise

    main()


def in_multirun() -> bool:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def failed_job(error: Exception) -> None:
    """One job of a sweep failed: say why, and let the sweep go on.

    The job's `run.json` says how it ended, for the report. No value is what the Optuna
    sweeper records as a failed trial (it stops on a NaN: `Study.tell` refuses one twice).
    """
    if isinstance(error, GanArenaError):
        log.error("error: %s; the sweep goes on", error)
    else:
        log.exception("the job failed; the sweep goes on")
    return None
