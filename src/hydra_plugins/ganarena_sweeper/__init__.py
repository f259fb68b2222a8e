"""gan-arena's hyperparameter-search sweeper, `hydra/sweeper=optuna_search` (Hydra finds
plugins only under `hydra_plugins`); the logic is in `ganarena.search`, imported when a search
starts so that every other command skips importing Optuna."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from hydra.core.plugins import Plugins
from hydra.plugins.launcher import Launcher
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig


class OptunaSearchSweeper(Sweeper):
    """A persistent, resumable Optuna study whose trials run through Hydra's launcher."""

    def __init__(
        self,
        sampler: Any,
        direction: str = "minimize",
        n_trials: int = 20,
        n_jobs: int = 1,
        params: Mapping[str, Any] | None = None,
        storage: str | None = None,
        study_name: str | None = None,
    ) -> None:
        self.settings = dict(
            sampler=sampler,
            direction=direction,
            n_trials=n_trials,
            n_jobs=n_jobs,
            params=params,
            storage=storage,
            study_name=study_name,
        )
        self.config: DictConfig | None = None
        self.launcher: Launcher | None = None

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        self.config = config
        self.hydra_context = hydra_context
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def sweep(self, arguments: list[str]) -> Any:
        from ganarena.errors import GanArenaError
        from ganarena.search.sweep import SearchSettings, run_search

        assert self.config is not None and self.launcher is not None, "setup() comes first"
        try:
            settings = SearchSettings(**self.settings)
            return run_search(settings, self.config, self.launcher, arguments)
        except GanArenaError as error:  # one line, as every entry point says it
            sys.exit(f"error: {error}")
