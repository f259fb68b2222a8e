"""Exact resume, checkpoints that survive a kill, signals, SLURM through submitit, bad input."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from ganarena.checkpoints import newest_complete_checkpoint
from ganarena.errors import GanArenaError
from ganarena.training import train

from .helpers import FAST, REPO_ROOT, STEPS, last, read_metrics

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
from resume_equality import largest_difference

#: Tensors in a checkpoint of the default run (the compact networks, their Adam states).
TENSORS = 89


@pytest.mark.parametrize("stop", [6, 4], ids=["mid-epoch", "epoch-boundary"])
def test_a_stopped_and_resumed_run_ends_bit_identical(compose_config, tmp_path, stop) -> None:
    """4 batches an epoch (+limit_train_batches=4): step 4 ends epoch 0, step 6 is inside 1."""
    # ~tuned: a stop by a shorter train_steps changes a decaying schedule's plan (the SIGTERM
    # test below resumes the default run, schedule and all, within one plan)
    epochs = ["+trainer.limit_train_batches=4", "callbacks.fid.every_n_steps=3", "~tuned"]
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    train(compose_config(*STEPS, *epochs, "train_steps=10", output_dir=whole))
    train(compose_config(*STEPS, *epochs, f"train_steps={stop}", output_dir=resumed))
    train(compose_config(*STEPS, *epochs, "train_steps=10", "resume=auto", output_dir=resumed))
    assert largest_difference(last(whole), last(resumed)) == (0.0, TENSORS)
    a, b = (torch.load(last(run), weights_only=True) for run in (whole, resumed))
    fid = "FIDCallback"
    assert a["callbacks"][fid]["best"] == b["callbacks"][fid]["best"]  # best-so-far resumes
    steps = [int(row["step"]) for row in read_metrics(resumed)]
    assert steps == sorted(set(steps)) and steps[-1] == 10  # one rising axis, rows kept


def test_a_began_run_resumes_its_k_and_its_weight_average(compose_config, tmp_path) -> None:
    common = [*STEPS, "+trainer.limit_train_batches=4", "loss=began", "model.ema_decay=0.9"]
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    train(compose_config(*common, "train_steps=6", output_dir=whole))
    train(compose_config(*common, "train_steps=3", output_dir=resumed))
    train(compose_config(*common, "train_steps=6", "resume=auto", output_dir=resumed))
    gap, _ = largest_difference(last(whole), last(resumed))
    state = torch.load(last(resumed), weights_only=True)["state_dict"]
    assert gap == 0.0 and "loss.k" in state and "generator_average.updates" in state


LECAM = "+loss.penalties.lecam={_target_: ganarena.losses.LeCam, weight: 0.3, start_step: 2}"
LAZY_R1 = (
    "+loss.penalties.r1={_target_: ganarena.losses.Lazy, every: 4,"
    " penalty: {_target_: ganarena.losses.R1Penalty, gamma: 1.0}}"
)


def test_lecam_lazy_r1_and_ada_resume_their_state_exactly(compose_config, tmp_path) -> None:
    common = [*STEPS, "+trainer.limit_train_batches=4", LECAM, LAZY_R1, "augment=ada", "~tuned"]
    common.append("augment.speed_images=500")  # p moves visibly within a few steps
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    train(compose_config(*common, "train_steps=10", output_dir=whole))
    train(compose_config(*common, "train_steps=5", output_dir=resumed))
    train(compose_config(*common, "train_steps=10", "resume=auto", output_dir=resumed))
    gap, _ = largest_difference(last(whole), last(resumed))
    state = torch.load(last(resumed), weights_only=True)["state_dict"]
    assert gap == 0.0
    assert state["loss.penalties.0.steps"].item() == 10 and state["augment.probability"] > 0
    assert state["loss.penalties.1._extra_state"] == {"steps": 10}


def test_a_half_written_checkpoint_never_replaces_the_last_good_one(
    compose_config, tmp_path, monkeypatch
) -> None:
    run = tmp_path / "run"
    train(compose_config(*STEPS, "+trainer.limit_train_batches=4", "train_steps=2", output_dir=run))
    good = last(run).read_bytes()
    import lightning.pytorch as pl

    def killed_mid_write(self, filepath, *args, **kwargs):
        Path(filepath).write_bytes(good[: len(good) // 2])  # half a file, then the kill
        raise KeyboardInterrupt

    monkeypatch.setattr(pl.Trainer, "save_checkpoint", killed_mid_write)
    overrides = ["+trainer.limit_train_batches=4", "train_steps=4", "resume=auto"]
    with pytest.raises((KeyboardInterrupt, SystemExit)):
        train(compose_config(*STEPS, *overrides, output_dir=run))
    assert last(run).read_bytes() == good
    assert newest_complete_checkpoint(run / "checkpoints") == last(run)


# --- checkpoints and settings as input ---------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a checkpoint at all", "is truncated or corrupt"),
        (None, "is not a gan-arena checkpoint"),
    ],
    ids=["corrupt", "foreign"],
)
def test_a_corrupt_or_foreign_checkpoint_is_one_line(compose_config, tmp_path, content, message):
    path = tmp_path / "some.ckpt"
    if content is None:
        torch.save({"weights": torch.zeros(2)}, path)
    else:
        path.write_bytes(content)
    with pytest.raises(GanArenaError, match=message) as error:
        train(compose_config(*FAST, f"ckpt_path={path}"))
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def test_a_checkpoint_of_other_networks_or_data_names_what_differs(compose_config, tmp_path):
    run = tmp_path / "run"
    train(compose_config(*FAST, output_dir=run))
    with pytest.raises(GanArenaError, match=r"model.generator.width 32 -> 16") as error:
        train(compose_config(*FAST, "model.generator.width=16", f"ckpt_path={last(run)}"))
    assert "\n" not in str(error.value)
    with pytest.raises(GanArenaError, match=r"data shape \(1, 8, 8\) -> \(1, 16, 16\)"):
        train(compose_config(*FAST, "data.image_size=16", f"ckpt_path={last(run)}"))


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("optimizer.generator.lr=-0.1", r"optimizer.generator cannot be built \(Invalid learning"),
        ("seed=1.5", "seed must be an integer, got 1.5"),
        ("trainer.devices=0", "the trainer settings do not work"),
        ("trainer.precision=fp17", r"the trainer settings do not work \(.*fp17"),
        ("resume=yes", "resume='yes' is not an option"),
    ],
)
def test_bad_settings_stop_with_one_line(compose_config, override, message) -> None:
    with pytest.raises(GanArenaError, match=message) as error:
        train(compose_config(*FAST, override))
    assert "\n" not in str(error.value)


# --- a real signal sent to a real process ------------------------------------------------------


def start(run: Path, *overrides: str) -> subprocess.Popen:
    """`python src/train.py` in the background, its console output in `<run>.out`."""
    env = {**os.environ, "WANDB_MODE": "offline", "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    arguments = [*STEPS, *overrides, f"hydra.run.dir={run}"]
    console = open(run.with_suffix(".out"), "w")  # noqa: SIM115 - closed by the process's end
    return subprocess.Popen(
        [sys.executable, "src/train.py", *arguments],
        cwd=REPO_ROOT,
        env=env,
        stdout=console,
        stderr=subprocess.STDOUT,
    )


@pytest.mark.slow
def test_kill_term_then_the_printed_command_finishes_the_run_as_if_never_stopped(tmp_path):
    killed, whole = tmp_path / "killed", tmp_path / "whole"
    budget = ["train_steps=60", "callbacks.fid.every_n_steps=20"]
    uninterrupted = start(whole, *budget)
    assert uninterrupted.wait(timeout=240) == 0  # first: the two never share the cores
    process = start(killed, *budget)
    deadline = time.monotonic() + 120
    while not (killed / "csv" / "metrics.csv").is_file() and time.monotonic() < deadline:
        time.sleep(0.2)  # it is training: rows appear from step 1 on (log_every_n_steps=1)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=120) != 0
    output = killed.with_suffix(".out").read_text()
    (line,) = [line for line in output.splitlines() if "error: stopped by SIGTERM" in line]
    step = int(re.search(r"at training step (\d+)", line).group(1))
    assert 0 < step < 60
    command = re.search(r"resume with `(.*)`", line).group(1)
    env = {**os.environ, "WANDB_MODE": "offline", "OMP_NUM_THREADS": "1"}
    program, *arguments = shlex.split(command)
    assert program == "python"  # what the user types; here, the interpreter running the tests
    subprocess.run([sys.executable, *arguments], cwd=REPO_ROOT, env=env, check=True)
    assert largest_difference(last(whole), last(killed)) == (0.0, TENSORS)


def test_after_a_fit_sigterm_does_what_it_did_before(compose_config, tmp_path) -> None:
    """The run takes SIGTERM over while it trains (to stop every rank at one step); after the
    fit a SIGTERM reaches the handler that was there before (here the test's own)."""
    received: list[int] = []
    before = signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))
    try:
        train(compose_config(*FAST, output_dir=tmp_path / "run"))
        os.kill(os.getpid(), signal.SIGTERM)
        assert received == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, before)


# --- SLURM through submitit's local executor ---------------------------------------------------


def multirun(*overrides: str, timeout: int = 300) -> None:
    env = {
        **os.environ,
        "WANDB_MODE": "offline",
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "src"), str(REPO_ROOT)]),
    }
    arguments = [*STEPS, *overrides]
    result = subprocess.run(
        [sys.executable, "src/train.py", "-m", "hydra/launcher=slurm_local", *arguments],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def task_logs(sweep: Path) -> str:
    return "\n".join(path.read_text() for path in sweep.glob(".submitit/*/*_log.*"))


@pytest.mark.slow
def test_a_two_task_submitit_job_trains_with_ranks_that_agree(tmp_path) -> None:
    sweep = tmp_path / "sweep"
    multirun("trainer=ddp_cpu", "train_steps=20", "+trainer.limit_train_batches=8",
             f"hydra.sweep.dir={sweep}")  # fmt: skip
    logs = task_logs(sweep)
    assert "MEMBER: 1/2" in logs and "MEMBER: 2/2" in logs
    assert logs.count("parameters identical on 2 ranks") >= 2
    job = sweep / "0"
    assert (job / "run.json").is_file() and last(job).is_file()
    assert (job / "train_rank1.log").is_file() and not list(job.glob(".hydra/*rank*"))


@pytest.mark.slow
def test_a_preempted_submitit_job_requeues_and_resumes_in_its_own_folder(tmp_path) -> None:
    sweep, whole = tmp_path / "sweep", tmp_path / "whole"
    budget = ["train_steps=30", "+trainer.limit_train_batches=8"]
    preempt = "+callbacks.preempt={_target_: tests.helpers.SignalAtStep, step: 12, signum: 12}"
    multirun(*budget, preempt, f"hydra.sweep.dir={sweep}")  # SIGUSR2: submitit's preemption
    logs = task_logs(sweep)
    assert "this job is preempted" in logs and "Requeued job" in logs
    job = sweep / "0"
    assert [p.name for p in sweep.iterdir() if p.name.isdigit()] == ["0"]  # no new folder
    assert "resume=auto: continuing from" in (job / "train.log").read_text()
    multirun(*budget, f"hydra.sweep.dir={whole}")
    assert largest_difference(last(whole / "0"), last(job)) == (0.0, TENSORS)
