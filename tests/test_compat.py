"""The private library APIs in `ganarena.compat`: each test runs the behaviour gan-arena
depends on, and fails when a release changes it.

If one of these fails after an upgrade, read the library's new code for the hook named in
the test and adapt `src/ganarena/compat.py`.
"""

from __future__ import annotations

import os
import subprocess
import sys

import lightning.pytorch as pl
import pytest
import torch
from lightning.fabric.plugins.environments import LightningEnvironment
from lightning.pytorch.strategies.launchers import subprocess_script

from ganarena.compat import (
    LAUNCH_VARIABLES,
    NVML_CHECK_VARIABLE,
    ChildCommandLauncher,
    inception_features_and_logits,
    save_random_inception_weights,
    skip_nvml_probe_without_gpus,
)
from ganarena.distributed import GANDDPStrategy, hydra_child_command


class RecordedPopen:
    calls: list[tuple[list[str], dict[str, str], str | None]] = []

    def __init__(self, command, env=None, cwd=None) -> None:
        RecordedPopen.calls.append((list(command), dict(env or {}), cwd))


@pytest.fixture
def clean_launch_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in LAUNCH_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    RecordedPopen.calls = []
    monkeypatch.setattr(subprocess_script.subprocess, "Popen", RecordedPopen)


def test_lightning_starts_children_with_the_hydra_jobs_command(
    compose_config, tmp_path, clean_launch_environment
) -> None:
    """Lightning's `_call_children_scripts` must still build the child command by calling
    the module-level `_hydra_subprocess_cmd(local_rank)` that `ChildCommandLauncher` swaps."""
    compose_config("loss=minimax", "trainer=ddp_cpu", output_dir=tmp_path / "job")
    lightning_command = subprocess_script._hydra_subprocess_cmd
    launcher = ChildCommandLauncher(
        LightningEnvironment(), num_processes=3, num_nodes=1, child_command=hydra_child_command
    )
    launcher._call_children_scripts()
    assert [env["LOCAL_RANK"] for _, env, _ in RecordedPopen.calls] == ["1", "2"]
    for local_rank, (command, _, cwd) in enumerate(RecordedPopen.calls, start=1):
        assert (command, cwd) == hydra_child_command(local_rank)
    assert subprocess_script._hydra_subprocess_cmd is lightning_command  # put back
    assert os.environ["WORLD_SIZE"] == "3"
    launcher.restore_environment()
    assert not any(name in os.environ for name in LAUNCH_VARIABLES)


def test_the_strategy_hands_lightning_its_launcher() -> None:
    """Lightning must still ask the strategy for its launcher through `_configure_launcher`."""
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=2,
        strategy=GANDDPStrategy(),
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    assert isinstance(trainer.strategy.launcher, ChildCommandLauncher)


def test_inception_gives_features_and_logits_from_one_pass(tmp_path, offline, monkeypatch) -> None:
    from torchmetrics.image.fid import NoTrainInceptionV3

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    weights = save_random_inception_weights(tmp_path / "pt_inception-2015-12-05-6726825d.pth")
    network = NoTrainInceptionV3(
        name="inception-v3-compat",
        features_list=["64", "logits_unbiased"],
        feature_extractor_weights_path=str(weights),
    )
    images = torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8)
    features, logits = inception_features_and_logits(network, images)
    assert features.reshape(2, -1).shape == (2, 64) and logits.shape == (2, 1008)


def test_importing_lightning_asks_torch_for_the_nvml_based_cuda_check() -> None:
    environment = {k: v for k, v in os.environ.items() if k != NVML_CHECK_VARIABLE}
    code = f"import os, lightning; print(os.environ.get('{NVML_CHECK_VARIABLE}'))"
    printed = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    ).stdout
    assert printed.strip() == "1"


def one_parameter_adam() -> torch.optim.Optimizer:
    parameter = torch.nn.Parameter(torch.zeros(3))
    parameter.grad = torch.ones(3)
    return torch.optim.Adam([parameter])


def test_without_a_gpu_adam_steps_stop_probing_nvml(monkeypatch: pytest.MonkeyPatch) -> None:
    if torch.cuda.device_count():
        pytest.skip("a GPU is visible: the NVML-based check stays (next test)")
    monkeypatch.setenv(NVML_CHECK_VARIABLE, "1")
    probes: list[int] = []
    probe = torch.cuda._raw_device_count_nvml
    monkeypatch.setattr(torch.cuda, "_raw_device_count_nvml", lambda: probes.append(1) or probe())
    optimizer = one_parameter_adam()
    optimizer.step()
    assert probes == [1]  # under Lightning's setting, every Adam step loads NVML
    skip_nvml_probe_without_gpus()
    assert NVML_CHECK_VARIABLE not in os.environ
    probes.clear()
    optimizer.step()
    assert probes == []


def test_with_a_gpu_the_nvml_based_check_stays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NVML_CHECK_VARIABLE, "1")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    skip_nvml_probe_without_gpus()
    assert os.environ[NVML_CHECK_VARIABLE] == "1"
