"""Hyperparameter searches: the search space, the study that survives its process (a real kill
and a real resume), trials side by side through joblib, and the report of a search."""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from math import nan
from pathlib import Path

import optuna
import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.utils import JobReturn, JobStatus
from hydra.utils import instantiate
from omegaconf import OmegaConf
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

from ganarena.config import CONFIG_DIR, group_options
from ganarena.errors import GanArenaError
from ganarena.search.space import hydra_value, search_space
from ganarena.search.study import FAILURE
from ganarena.search.sweep import SearchSettings, SearchStopped, run_search

from .helpers import DIVERGES, REPO_ROOT, column, read_metrics, run_script, short_runs

SWEEPER = "hydra_plugins.ganarena_sweeper.OptunaSearchSweeper"
SEARCHES = group_options(CONFIG_DIR, "hparams_search")


# --- the search space -------------------------------------------------------------------------


def test_the_search_space_reads_hydra_sweep_syntax_and_the_command_line_wins() -> None:
    params = {
        "optimizer.generator.lr": "tag(log, interval(1e-5, 1e-2))",
        "optimizer.generator.betas.0": "interval(0.0, 0.9)",
        "loss.n_critic": "range(1, 6)",
        "loss.gamma": "0.5",
    }
    arguments = [
        "loss.n_critic=choice(1,5)",
        "loss=wgan_gp,wgan_lp",
        "~callbacks.fid",
    ]
    space = search_space(params, arguments)
    assert space.distributions == {
        "optimizer.generator.lr": FloatDistribution(1e-5, 1e-2, log=True),
        "optimizer.generator.betas.0": FloatDistribution(0.0, 0.9),
        "loss.n_critic": CategoricalDistribution([1, 5]),  # the command line's, in its place
        "loss": CategoricalDistribution(["wgan_gp", "wgan_lp"]),
    }
    assert space.fixed == ["loss.gamma=0.5", "~callbacks.fid"]
    assert search_space({"a": "range(1, 6)"}, []).distributions["a"] == IntDistribution(1, 5)
    with pytest.raises(GanArenaError, match="has no values"):
        search_space({"a": "range(6, 1)"}, [])


@pytest.mark.parametrize("value", [1e38, 2.5e-05, 3, True, None, "it's a b", "lsgan"])
def test_a_drawn_value_survives_the_command_line(value) -> None:
    (override,) = search_space({}, [f"x={hydra_value(value)}"]).fixed
    assert OverridesParser.create().parse_override(override).value() == value


@pytest.mark.parametrize("option", SEARCHES)
def test_every_preset_composes_with_the_search_sweeper_and_a_study_in_its_folder(
    compose_config, option
) -> None:
    loss = "lsgan" if option == "adam" else option  # a loss the preset is written for
    cfg = compose_config(f"hparams_search={option}", f"loss={loss}")
    sweeper = instantiate(cfg.hydra.sweeper)
    assert f"{type(sweeper).__module__}.{type(sweeper).__name__}" == SWEEPER
    settings = SearchSettings(**sweeper.settings)
    assert isinstance(settings.sampler, optuna.samplers.RandomSampler)
    folder = f"/logs/searches/{option}-{loss}-digits"
    assert str(cfg.hydra.sweep.dir).endswith(folder)
    assert settings.storage == f"sqlite:///{cfg.hydra.sweep.dir}/optuna.db"
    assert settings.study_name == f"{option}-{loss}-digits"
    space = search_space(settings.params, [])
    assert space.distributions and not space.fixed
    for key in space.distributions:  # every searched setting exists in the config
        assert OmegaConf.select(cfg, key) is not None, key


# --- the study, with jobs that return what they are told to ---------------------------------


class ReturningLauncher:
    """Hydra's launcher contract without training. A trial's first override is its draw: v
    returns v, -1 raises, -3 returns NaN, -2 writes the run.json of a run stopped by a signal."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.batches: list[list[int]] = []

    def launch(self, overrides, initial_job_idx: int) -> list[JobReturn]:
        self.batches.append([initial_job_idx + i for i in range(len(overrides))])
        return [self.job(o, initial_job_idx + i) for i, o in enumerate(overrides)]

    def job(self, overrides, number: int) -> JobReturn:
        (self.folder / str(number)).mkdir()
        drawn = float(overrides[0].partition("=")[2])
        if drawn == -1:
            return JobReturn(status=JobStatus.FAILED, _return_value=RuntimeError("boom"))
        if drawn == -2:
            status = json.dumps({"status": "interrupted"})
            (self.folder / str(number) / "run.json").write_text(status)
            drawn = None
        return JobReturn(status=JobStatus.COMPLETED, _return_value=nan if drawn == -3 else drawn)


def search(folder: Path, sweep: str, n_trials: int, n_jobs: int = 1) -> ReturningLauncher:
    """A search whose only setting is `sweep` (`x=choice(...)`) in a study kept in `folder`."""
    config = OmegaConf.create({"hydra": {"sweep": {"dir": str(folder)}}, "optimized_metric": "m"})
    key, _, values = sweep.partition("=")
    settings = SearchSettings(
        sampler=optuna.samplers.RandomSampler(seed=1),
        n_trials=n_trials,
        n_jobs=n_jobs,
        params={key: values},
        storage=f"sqlite:///{folder}/optuna.db",
    )
    launcher = ReturningLauncher(folder)
    run_search(settings, config, launcher, [])
    return launcher


def states(study: optuna.Study) -> list[str]:
    return [trial.state.name for trial in study.trials]


def test_failed_trials_count_and_trials_stopped_by_a_signal_run_again(tmp_path) -> None:
    folder = tmp_path / "search"
    # Seed 1 draws -1, 1.5, -3, -3, -1, 1.5: every outcome, in batches of two.
    launcher = search(folder, "x=choice(1.5,-1,-3)", n_trials=6, n_jobs=2)
    study = load_study(folder)
    assert len(study.trials) == 6 and launcher.batches == [[0, 1], [2, 3], [4, 5]]
    for trial in study.trials:  # a value completes; an error or NaN fails, and counts
        drawn = trial.params["x"]
        assert trial.state == (TrialState.COMPLETE if drawn == 1.5 else TrialState.FAIL)
        assert (FAILURE in trial.user_attrs) == (drawn != 1.5)
    results = OmegaConf.load(folder / "optimization_results.yaml")
    assert results.complete + results.failed == 6 and results.best_value == 1.5

    with pytest.raises(SearchStopped, match="trial 6 was stopped by a signal"):
        search(folder, "stop=choice(-2)", n_trials=7)
    study = load_study(folder)
    assert states(study)[6:] == ["FAIL"] and study.user_attrs["interrupted_trials"] == [6]
    assert search(folder, "y=choice(2.5)", n_trials=7).batches == [[7]]  # 6 runs again, as 7
    assert states(load_study(folder))[6:] == ["FAIL", "COMPLETE"]


def test_a_search_continues_only_with_the_settings_it_started_with(tmp_path) -> None:
    folder = tmp_path / "search"
    config = OmegaConf.create({"hydra": {"sweep": {"dir": str(folder)}}})
    storage = f"sqlite:///{folder}/optuna.db"
    settings = SearchSettings(None, n_trials=1, params={"x": "choice(1.0)"}, storage=storage)
    run_search(settings, config, ReturningLauncher(folder), ["seed=1"])
    with pytest.raises(GanArenaError, match=r"only then: seed=1; only now: seed=2\): run its"):
        run_search(settings, config, ReturningLauncher(folder), ["seed=2"])
    settings.study_name = "another"  # a new study in a folder that holds the first one's runs
    with pytest.raises(GanArenaError, match="holds a run that is not trial 0 of search 'another'"):
        run_search(settings, config, ReturningLauncher(folder), ["seed=2"])


# --- real searches, in other processes ------------------------------------------------------

#: Three tiny trials of the adam preset, in `<log_dir>/searches/adam-nonsaturating-digits`.
TRIALS = ["hparams_search=adam", "loss=nonsaturating", "hydra.sweeper.n_trials=3"]
FOLDER = Path("searches") / "adam-nonsaturating-digits"


def search_command(tmp_path: Path, classifier_dir: Path, *more: str) -> list[str]:
    runs = short_runs(classifier_dir, tmp_path / "data")
    log_dir = f"paths.log_dir={tmp_path / 'logs'}"
    return [sys.executable, "src/train.py", "-m", *TRIALS, *runs, log_dir, *more]


ENV = {**os.environ, "WANDB_MODE": "offline", "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}


def load_study(folder: Path) -> optuna.Study:
    return optuna.load_study(study_name=folder.name, storage=f"sqlite:///{folder}/optuna.db")


def wait_for(path: Path, process: subprocess.Popen, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while not path.is_file():
        assert process.poll() is None, "the search ended before it could be killed"
        assert time.monotonic() < deadline, f"no {path} after {seconds} s"
        time.sleep(0.2)


@pytest.mark.slow
def test_a_killed_search_continues_with_the_same_command_and_ends_with_its_trials(
    tmp_path, classifier_dir
) -> None:
    command = search_command(tmp_path, classifier_dir)
    folder = tmp_path / "logs" / FOLDER
    with open(tmp_path / "first.out", "w") as output:
        first = subprocess.Popen(
            command, cwd=REPO_ROOT, env=ENV, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        wait_for(folder / "1" / "run.json", first)  # trial 0 ended, trial 1 is training
        os.killpg(first.pid, signal.SIGKILL)
        assert first.wait(timeout=60) == -signal.SIGKILL
    assert states(load_study(folder)) == ["COMPLETE", "RUNNING"]

    second = subprocess.run(command, cwd=REPO_ROOT, env=ENV, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr[-3000:]
    said = second.stdout + second.stderr  # Hydra logs to stdout
    assert "trial 1 was running when the search stopped: marked failed" in said
    study = load_study(folder)
    assert states(study) == ["COMPLETE", "FAIL", "COMPLETE", "COMPLETE"]
    assert study.user_attrs["interrupted_trials"] == [1]
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == ["0", "1", "2", "3"]
    for trial in study.trials:  # what the study holds is what each run logged last
        if trial.state == TrialState.COMPLETE:
            logged = column(read_metrics(folder / str(trial.number)), "val/fid_best")
            assert trial.value == pytest.approx(logged[-1])

    run_script("report.py", f"study_dir={folder}", "wandb=false")
    report = json.loads((folder / "report.json").read_text())
    (row,) = report["tables"][0]["rows"]
    assert (row["runs"], row["finished"], row["failed"]) == (4, 3, 1)  # trial 1: never ended
    (record,) = report["searches"]
    assert (record["complete"], record["failed"], record["interrupted"]) == (3, 0, [1])
    assert (
        record["best_value"] == study.best_value and record["best_trial"] == study.best_trial.number
    )
    markdown = (folder / "report.md").read_text()
    assert "## The search" in markdown and "marked failed and run again: 1." in markdown
    assert (
        f"trial {study.best_trial.number} (`{folder.name}/{study.best_trial.number}`)" in markdown
    )
    assert (folder / "expected_best_of_k_trials_digits_8.png").is_file()


@pytest.mark.slow
def test_a_search_in_parallel_shares_one_study_and_goes_on_past_a_diverged_trial(
    tmp_path, classifier_dir
) -> None:
    parallel = ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "hydra.sweeper.n_jobs=2"]
    # Random sampling with this seed draws D's learning rate 1e38 (it diverges), 2e-4, 1e-3.
    draws = [
        "hydra.sweeper.sampler.seed=2",
        "optimizer.discriminator.lr=choice(2e-4,1e-3,1e38)",
        "optimizer.generator.lr=choice(2e-4)",
        "optimizer.generator.betas.0=choice(0.5)",
        "optimizer.discriminator.betas.0=choice(0.5)",
        DIVERGES[1],
    ]
    command = search_command(tmp_path, classifier_dir, *parallel, *draws)
    result = subprocess.run(command, cwd=REPO_ROOT, env=ENV, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    folder = tmp_path / "logs" / FOLDER
    study = load_study(folder)
    assert states(study) == ["FAIL", "COMPLETE", "COMPLETE"]
    assert "no value" in study.trials[0].user_attrs[FAILURE]
    records = [json.loads((folder / str(n) / "run.json").read_text()) for n in range(3)]
    assert [record["status"] for record in records] == ["diverged", "finished", "finished"]
    # One batch: two joblib workers, and trial 1 was out before trial 0 was told.
    assert "is launching 2 jobs" in result.stdout and "is launching 1 jobs" in result.stdout
    assert study.trials[1].datetime_start < study.trials[0].datetime_complete

    run_script("report.py", f"study_dir={folder}", "wandb=false")
    (table,) = json.loads((folder / "report.json").read_text())["tables"]
    (row,) = table["rows"]
    assert (row["runs"], row["finished"], row["diverged"]) == (3, 2, 1)
    curve = table["budgets"]["nonsaturating"]  # the best-of-k curve: a diverged trial gave nothing
    assert (curve["trials"], curve["unfinished"]) == (3, 1)
    assert curve["expected"][0] == pytest.approx(statistics.fmean(row["best_fid"]["values"]))
    assert (folder / "expected_best_of_k_trials_digits_8.png").is_file()
