"""Data parallelism: gradient averaging across real gloo processes, and two-process training."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from omegaconf import OmegaConf

from ganarena.distributed import (
    DISTRIBUTED_STRATEGY,
    average_gradients,
    broadcast_module_state,
    data_parallel_strategy,
    devices_per_node,
    hydra_child_command,
)
from ganarena.ranks import spread_across_ranks

from .helpers import REPO_ROOT


def _average_on_rank(rank: int, world_size: int, port: int, results: dict) -> None:
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size
    )
    try:
        torch.manual_seed(rank)  # every rank starts from different weights ...
        layer = torch.nn.Linear(3, 2)
        broadcast_module_state(layer)  # ... until rank 0's are broadcast
        layer.weight.grad = torch.full_like(layer.weight, float(rank + 1))
        layer.bias.grad = None  # a parameter without a gradient is skipped
        average_gradients(list(layer.parameters()))
        results[rank] = (layer.weight.detach().clone(), layer.weight.grad.clone(), layer.bias.grad)
    finally:
        dist.destroy_process_group()


def _spread_on_rank(rank: int, port: int, results: dict) -> None:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    try:
        checksums = torch.tensor([1.0, 2.0, -3.0]) + torch.tensor([0.0, 0.5, 0.25]) * rank
        results[rank] = spread_across_ranks(checksums)
    finally:
        dist.destroy_process_group()


def test_the_sync_checks_spread_is_the_gap_between_the_ranks_values() -> None:
    results = mp.Manager().dict()
    mp.spawn(_spread_on_rank, args=(free_port(), results), nprocs=2, join=True)
    assert torch.equal(results[0], torch.tensor([0.0, 0.5, 0.25]))
    assert torch.equal(results[1], results[0])


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gradients_are_averaged_and_weights_broadcast_across_two_processes() -> None:
    results = mp.Manager().dict()
    mp.spawn(_average_on_rank, args=(2, free_port(), results), nprocs=2, join=True)
    (weight0, grad0, bias0), (weight1, grad1, bias1) = results[0], results[1]
    assert torch.equal(weight0, weight1)
    assert torch.equal(grad0, torch.full_like(grad0, 1.5))  # mean of 1 and 2
    assert torch.equal(grad1, grad0)
    assert bias0 is None and bias1 is None


def test_child_command_is_rebuilt_from_the_job_overrides(compose_config, tmp_path) -> None:
    compose_config("loss=minimax", "trainer=ddp_cpu", output_dir=tmp_path / "job")
    command, _ = hydra_child_command(local_rank=1)
    assert command[2:4] == ["loss=minimax", "trainer=ddp_cpu"]
    assert f'hydra.run.dir="{tmp_path / "job"}"' in command
    assert "-m" not in command and "--multirun" not in command


def run_train(*overrides: str, timeout: int = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, "WANDB_MODE": "offline", "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "src/train.py", *overrides],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


QUIET = ["logger=csv", "~callbacks.rich_progress_bar", "+trainer.enable_progress_bar=false"]


@pytest.mark.parametrize(
    ("devices", "count"), [(1, 1), (4, 4), ("2", 2), ("0,1,3", 3), ([0, 2], 2), ("auto", 1)]
)
def test_devices_are_counted_as_lightning_counts_them(devices, count) -> None:
    assert devices_per_node("cpu", devices) == count


@pytest.mark.parametrize(
    ("settings", "strategy"),
    [
        ({"devices": 4}, DISTRIBUTED_STRATEGY),  # as the README types it
        ({"devices": 1, "num_nodes": 2}, DISTRIBUTED_STRATEGY),
        ({"devices": 1}, "auto"),
        ({"devices": 4, "strategy": "ddp"}, "ddp"),  # named by the user: left alone
    ],
)
def test_several_processes_with_the_default_strategy_train_under_gan_ddp(
    settings, strategy
) -> None:
    config = OmegaConf.create({"accelerator": "cpu", "strategy": "auto", **settings})
    assert data_parallel_strategy(config).strategy == strategy


@pytest.mark.slow
def test_the_readmes_devices_command_trains_two_processes_as_typed(tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = run_train("loss=lsgan", "trainer.devices=2", "train_steps=30", f"hydra.run.dir={run}")
    assert result.returncode == 0, result.stderr[-2000:]
    output = result.stdout + result.stderr
    assert "GLOBAL_RANK: 1, MEMBER: 2/2" in output
    assert "finished 30 training steps" in output
    assert output.count("  networks: G ") == 1  # the run's summary, from rank 0 alone
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)
    assert checkpoint["global_step"] == 2 * 30


@pytest.mark.slow
def test_two_cpu_processes_train_with_identical_parameters(tmp_path: Path) -> None:
    run = tmp_path / "run"
    # With a weight average: it must stay identical on the ranks too (sync check).
    overrides = ["trainer=ddp_cpu", "trainer.max_epochs=2", "model.ema_decay=0.9"]
    result = run_train(*overrides, *QUIET, f"hydra.run.dir={run}")
    assert result.returncode == 0, result.stderr[-2000:]
    output = result.stdout + result.stderr
    assert "GLOBAL_RANK: 1, MEMBER: 2/2" in output
    assert output.count("parameters identical on 2 ranks") == 2  # checked after each epoch
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)
    # 1,797 digits, 64 per rank per step: 14 training steps per epoch on each of 2 ranks.
    assert checkpoint["global_step"] == 2 * 14 * 2


@pytest.mark.slow
def test_lecam_averages_and_ada_probability_are_equal_on_two_ranks(tmp_path: Path) -> None:
    run = tmp_path / "run"
    lecam = "+loss.penalties.lecam={_target_: ganarena.losses.LeCam, start_step: 3}"
    overrides = ["trainer=ddp_cpu", "trainer.max_epochs=1", lecam, "augment=ada"]
    overrides.append("augment.speed_images=1000")
    result = run_train(*overrides, *QUIET, f"hydra.run.dir={run}")
    assert result.returncode == 0, result.stderr[-2000:]
    # The sync check compares the loss's and the augmentation's state tensors too.
    assert (result.stdout + result.stderr).count("parameters identical on 2 ranks") == 1
    state = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    assert state["loss.penalties.0.steps"].item() == 14 and state["augment.probability"] > 0


@pytest.mark.slow
def test_a_sweep_under_ddp_runs_each_job_once(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    result = run_train(
        "-m",
        "trainer=ddp_cpu",
        "trainer.max_epochs=1",
        "loss=minimax,nonsaturating",
        *QUIET,
        f"hydra.sweep.dir={sweep}",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(re.findall(r"#\d+ : ", result.stdout + result.stderr)) == 2
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir()) == ["0", "1"]
    for job, loss in (("0", "Minimax"), ("1", "NonSaturating")):
        checkpoint = torch.load(sweep / job / "checkpoints" / "last.ckpt", weights_only=False)
        config = checkpoint["hyper_parameters"]["config"]
        assert config["loss"]["_target_"] == f"ganarena.losses.{loss}"
        assert checkpoint["global_step"] == 14 * 2


@pytest.mark.slow
def test_sigterm_to_rank_zero_stops_both_ranks_at_one_step_with_last_ckpt(tmp_path: Path) -> None:
    run = tmp_path / "run"
    env = {**os.environ, "WANDB_MODE": "offline", "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    overrides = ["trainer=ddp_cpu", "train_steps=5000", "trainer.log_every_n_steps=1", *QUIET]
    console = tmp_path / "console.txt"
    with open(console, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "src/train.py", *overrides, f"hydra.run.dir={run}"],
            cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 180
        while not (run / "csv" / "metrics.csv").is_file() and time.monotonic() < deadline:
            time.sleep(0.2)  # both ranks are training: rows appear from step 1 on
        process.send_signal(signal.SIGTERM)  # rank 0, the process the user started
        assert process.wait(timeout=120) != 0
    output = console.read_text()
    steps = re.findall(r"error: stopped by SIGTERM at training step (\d+)", output)
    assert len(steps) >= 1 and len(set(steps)) == 1, output[-3000:]
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)
    assert checkpoint["global_step"] == 2 * int(steps[0])  # saved at the step both stopped at
