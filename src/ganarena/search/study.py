"""The Optuna study behind a search, kept in its storage so that a search survives its process.

A search started again with the same command loads its study and runs only the trials that are
left. What counts towards `n_trials` is a trial that ran to its end: one that returned a value,
and one that failed on its own (no value, NaN, an error; the `failure` attribute says which).
A trial that was cut off because the search itself stopped (a kill, Ctrl+C, a cluster's time
limit) is marked failed without that attribute, so it is run again.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import optuna
from hydra.core.utils import JobReturn, JobStatus
from optuna.trial import FrozenTrial, Trial, TrialState

from ganarena.errors import GanArenaError
from ganarena.run_record import RUN_FILE

#: A trial's user attribute: why a trial that ran to its end failed.
FAILURE = "failure"
#: The study's user attribute: the command-line overrides it was started with.
COMMAND_LINE = "command_line"
#: The study's user attribute: the trials marked failed because the search stopped under them.
INTERRUPTED = "interrupted_trials"
DIRECTIONS = ("minimize", "maximize")


def open_study(storage: str | None, name: str, sampler: Any, direction: str) -> optuna.Study:
    """The study `name` in `storage`: created on the first start, loaded on the next ones."""
    if direction not in DIRECTIONS:
        raise GanArenaError(
            f"hydra.sweeper.direction '{direction}' is not one direction: set "
            "hydra.sweeper.direction=minimize or maximize (a search optimises one metric)"
        )
    make_sqlite_folder(storage)
    return optuna.create_study(
        storage=storage,
        study_name=name,
        sampler=sampler,
        direction=direction,
        load_if_exists=True,
    )


def make_sqlite_folder(storage: str | None) -> None:
    """SQLite makes the database file but not its folder."""
    if storage and storage.startswith("sqlite:///"):
        Path(storage.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def keep_command_line(study: optuna.Study, arguments: Sequence[str]) -> None:
    """Refuse to continue a study that was started with other settings: its trials would mix
    two experiments. The first start records them."""
    started_with = study.user_attrs.get(COMMAND_LINE)
    if started_with is None:
        study.set_user_attr(COMMAND_LINE, list(arguments))
        return
    if sorted(started_with) != sorted(arguments):
        then = " ".join(sorted(set(started_with) - set(arguments))) or "-"
        now = " ".join(sorted(set(arguments) - set(started_with))) or "-"
        raise GanArenaError(
            f"search '{study.study_name}' was started with other settings (only then: {then}; "
            f"only now: {now}): run its command to continue it, or name a new search with "
            "hydra.sweeper.study_name=NAME"
        )


def fail_interrupted_trials(study: optuna.Study) -> list[int]:
    """Mark failed the trials that were running when the search's process died."""
    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    numbers = [trial.number for trial in running]
    fail_cut_off(study, numbers)
    return numbers


def fail_cut_off(study: optuna.Study, trials: Sequence[Trial | int]) -> None:
    """Mark failed, to run again, trials that the search's stop cut off, and note them."""
    for trial in trials:
        study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
    if trials:
        numbers = [trial if isinstance(trial, int) else trial.number for trial in trials]
        study.set_user_attr(INTERRUPTED, [*study.user_attrs.get(INTERRUPTED, []), *numbers])


def ended(trial: FrozenTrial) -> bool:
    """Whether a trial counts towards `n_trials`: it ran to its end, well or not."""
    return trial.state == TrialState.COMPLETE or (
        trial.state == TrialState.FAIL and FAILURE in trial.user_attrs
    )


def trials_ended(study: optuna.Study) -> int:
    return sum(ended(trial) for trial in study.get_trials(deepcopy=False))


def stopped_by_signal(job_dir: Path) -> bool:
    """Whether a trial's run was stopped by a signal to its process (Ctrl+C, SIGTERM): its
    `run.json` says `interrupted`. The run itself returns no value then, like a failed one."""
    try:
        return json.loads((job_dir / RUN_FILE).read_text()).get("status") == "interrupted"
    except (OSError, ValueError):
        return False


def job_outcome(job: JobReturn) -> tuple[float | None, str | None]:
    """(value, None) for a trial that returned a number, (None, why) for one that failed."""
    if job.status != JobStatus.COMPLETED:
        try:
            job.return_value  # noqa: B018 (raises the job's error)
        except Exception as error:
            return None, f"raised {type(error).__name__}: {error}"
    value = job.return_value
    if value is None:
        return None, "returned no value (the run failed or diverged)"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None, f"returned {value!r}, not a number"
    if not math.isfinite(number):
        return None, f"returned {number} (diverged)"
    return number, None


def record(study: optuna.Study, trial: Trial, job: JobReturn) -> tuple[float | None, str | None]:
    """Tell the study how a trial's job ended: (value, None), or (None, why it failed)."""
    value, failure = job_outcome(job)
    if failure is None:
        study.tell(trial, value)
    else:
        trial.set_user_attr(FAILURE, failure)
        study.tell(trial, state=TrialState.FAIL)
    return value, failure


def best_trial(study: optuna.Study) -> FrozenTrial | None:
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return study.best_trial if complete else None


def summary(study: optuna.Study, storage: str | None, n_trials: int, metric: str) -> dict:
    """What `optimization_results.yaml` holds: the counts and the best trial."""
    trials = study.get_trials(deepcopy=False)
    best = best_trial(study)
    return {
        "name": "optuna",
        "study_name": study.study_name,
        "storage": storage,
        "direction": study.direction.name.lower(),
        "metric": metric,
        "n_trials": n_trials,
        "complete": sum(t.state == TrialState.COMPLETE for t in trials),
        "failed": sum(t.state == TrialState.FAIL and ended(t) for t in trials),
        "interrupted": list(study.user_attrs.get(INTERRUPTED, [])),
        "best_trial": None if best is None else best.number,
        "best_value": None if best is None else best.value,
        "best_params": {} if best is None else dict(best.params),
    }
