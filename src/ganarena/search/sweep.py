"""A hyperparameter search: ask the study for `n_jobs` trials, run them as one batch of Hydra
jobs through the configured launcher (in this process, joblib, SLURM), tell the study how each
ended, until `n_trials` trials have ended.

Trial n runs in `<sweep dir>/n`, whichever process started it: a search continued after a stop
adds its trials to the same folder, so the report reads the whole search.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from hydra.plugins.launcher import Launcher
from omegaconf import DictConfig, OmegaConf
from optuna.trial import Trial, TrialState

from ganarena.errors import GanArenaError
from ganarena.search import RESULTS_FILE
from ganarena.search.space import SearchSpace, hydra_value, search_space
from ganarena.search.study import (
    best_trial,
    fail_cut_off,
    fail_interrupted_trials,
    keep_command_line,
    open_study,
    record,
    stopped_by_signal,
    summary,
    trials_ended,
)

log = logging.getLogger(__name__)


class SearchStopped(GanArenaError):
    """The search's process was asked to stop; its unfinished trials run again next time."""


@dataclass
class SearchSettings:
    """`hydra.sweeper`: the keys of Hydra's former Optuna sweeper that gan-arena uses."""

    sampler: Any
    direction: str = "minimize"
    n_trials: int = 20
    n_jobs: int = 1
    params: Mapping[str, Any] | None = None
    storage: str | None = None
    study_name: str | None = None

    def check(self) -> None:
        if self.n_trials < 0 or self.n_jobs < 1:
            raise GanArenaError(
                f"hydra.sweeper.n_trials={self.n_trials} and n_jobs={self.n_jobs}: a search "
                "needs n_trials >= 0 and n_jobs >= 1"
            )


def run_search(
    settings: SearchSettings, config: DictConfig, launcher: Launcher, arguments: Sequence[str]
) -> optuna.Study:
    """Run the trials a search has left; return its study."""
    settings.check()
    folder = Path(str(config.hydra.sweep.dir))
    folder.mkdir(parents=True, exist_ok=True)
    space = search_space(settings.params, arguments)
    name = settings.study_name or folder.name
    study = open_study(settings.storage, name, settings.sampler, settings.direction)
    keep_command_line(study, arguments)
    interrupted = fail_interrupted_trials(study)
    announce(study, settings, interrupted, folder)
    if study.trials:
        study.sampler.reseed_rng()  # a seeded sampler would repeat the first start's draws
    OmegaConf.save(config, folder / "multirun.yaml")
    metric = str(config.get("optimized_metric") or "value")
    while (left := settings.n_trials - trials_ended(study)) > 0:
        trials = [study.ask(space.distributions) for _ in range(min(settings.n_jobs, left))]
        run_batch(study, trials, space, launcher, folder, metric)
    results = summary(study, settings.storage, settings.n_trials, metric)
    OmegaConf.save(OmegaConf.create(results), folder / RESULTS_FILE)
    say_best(results, folder)
    return study


def announce(
    study: optuna.Study, settings: SearchSettings, interrupted: list[int], folder: Path
) -> None:
    done = trials_ended(study)
    where = settings.storage or "memory (hydra.sweeper.storage=null: it cannot be continued)"
    log.info("search '%s' in %s, trials in %s", study.study_name, where, folder)
    if study.trials:
        log.info("continuing it: %d of %d trials have ended", done, settings.n_trials)
    for number in interrupted:
        log.warning(
            "trial %d was running when the search stopped: marked failed, to run again", number
        )
    if done >= settings.n_trials:
        log.info("nothing left to run: raise hydra.sweeper.n_trials for more trials")


def run_batch(
    study: optuna.Study,
    trials: list[Trial],
    space: SearchSpace,
    launcher: Launcher,
    folder: Path,
    metric: str,
) -> None:
    """Run trials side by side as jobs `<folder>/<trial number>` and record their outcomes."""
    numbers = [trial.number for trial in trials]
    try:
        check_batch(study, numbers, folder)
    except GanArenaError:
        for trial in trials:  # never launched: nothing to note
            study.tell(trial, state=TrialState.FAIL)
        raise
    pinned = f"hydra.sweep.dir={hydra_value(str(folder))}"
    overrides = [[*space.overrides(trial.params), pinned] for trial in trials]
    try:
        jobs = launcher.launch(overrides, initial_job_idx=numbers[0])
    except BaseException:
        fail_cut_off(study, trials)
        log.error("the search stopped during trials %s: the same command continues it", numbers)
        raise
    stopped = [t for t in trials if stopped_by_signal(folder / str(t.number))]
    fail_cut_off(study, stopped)
    for trial, job in zip(trials, jobs, strict=True):
        if trial not in stopped:
            log_outcome(study, trial, *record(study, trial, job), metric)
    if stopped:
        raise SearchStopped(
            f"trial {stopped[0].number} was stopped by a signal, and the search with it; the "
            "same command continues it"
        )


def log_outcome(
    study: optuna.Study, trial: Trial, value: float | None, failure: str | None, metric: str
) -> None:
    if failure:
        log.warning("trial %d failed: it %s; the search goes on", trial.number, failure)
        return
    best = best_trial(study)
    log.info(
        "trial %d: %s = %.6g (best: %.6g, trial %d)",
        *(trial.number, metric, value, best.value, best.number),
    )


def check_batch(study: optuna.Study, numbers: list[int], folder: Path) -> None:
    """Trial n must get job folder n, and the folder must be new."""
    if numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        raise GanArenaError(
            f"trials {numbers} of search '{study.study_name}' are not consecutive: another "
            "process runs this search too; run one command per search (hydra.sweeper.n_jobs "
            "runs its trials side by side)"
        )
    taken = [folder / str(number) for number in numbers if (folder / str(number)).exists()]
    if taken:
        raise GanArenaError(
            f"{taken[0]} holds a run that is not trial {taken[0].name} of search "
            f"'{study.study_name}': give this search a folder of its own "
            "(hydra.sweeper.study_name=NAME, or hydra.sweep.dir=DIR)"
        )


def say_best(results: Mapping[str, Any], folder: Path) -> None:
    counts = f"{results['complete']} complete, {results['failed']} failed"
    if results["best_trial"] is None:
        log.warning("search ended with no complete trial (%s)", counts)
    else:
        log.info(
            "search ended (%s); best %s = %.6g in trial %d (%s): %s",
            counts,
            results["metric"],
            results["best_value"],
            results["best_trial"],
            folder / str(results["best_trial"]),
            " ".join(f"{k}={hydra_value(v)}" for k, v in results["best_params"].items()),
        )
    log.info("results in %s", folder / RESULTS_FILE)
