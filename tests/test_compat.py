"""The private library APIs in `ganarena.compat`: each test fails when a release changes one.

If one of these fails after an upgrade, read the library's new code for the hook named in
the test, adapt `src/ganarena/compat.py`, and move the version bound in pyproject.toml.
"""

from __future__ import annotations

import inspect
import os
import subprocess
import sys

import lightning.pytorch as pl
import pytest
import torch
from lightning.fabric.plugins.environments import LightningEnvironment
from lightning.pytorch.loops.training_epoch_loop import _TrainingEpochLoop
from lightning.pytorch.strategies.launchers import subprocess_script

from ganarena.compat import (
    LAUNCH_VARIABLES,
    NVML_CHECK_VARIABLE,
    ChildCommandLauncher,
    LeanBatchLoop,
    counted_step,
    inception_features_and_logits,
    optimizer_step_progress,
    publish_callback_metrics,
    replace_sigterm_broadcast,
    save_random_inception_weights,
    skip_nvml_probe_without_gpus,
    train_step_interval,
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


class PublishesAScore(pl.LightningModule):
    """Publishes a score that falls with the step, in the loop and after it."""

    def __init__(self) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.layer = torch.nn.Linear(1, 1)

    def training_step(self, batch, batch_idx: int) -> None:
        optimizer = self.optimizers()
        optimizer.zero_grad()
        self.manual_backward(self.layer(batch).sum())
        optimizer.step()
        publish_callback_metrics(self.trainer, {"score": torch.tensor(10.0 - batch_idx)})

    def on_train_end(self) -> None:
        publish_callback_metrics(self.trainer, {"after_fit": 1.5})

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def test_published_values_reach_checkpoint_monitors_and_callback_metrics(tmp_path) -> None:
    checkpoint = pl.callbacks.ModelCheckpoint(tmp_path, monitor="score", every_n_train_steps=1)
    trainer = pl.Trainer(
        max_steps=3,
        logger=False,
        callbacks=[checkpoint],
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
    )
    trainer.fit(PublishesAScore(), torch.utils.data.DataLoader(torch.ones(8, 1)))
    assert checkpoint.best_model_score.item() == 8.0  # the lowest: batch 2
    assert trainer.callback_metrics["score"].item() == 8.0
    assert trainer.callback_metrics["after_fit"].item() == 1.5


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


def test_the_per_batch_sigterm_broadcast_is_the_method_that_ddp_runs_replace() -> None:
    # Under DDP the epoch loop calls it before every batch; GANDDPStrategy puts its
    # shared-memory agreement there (tests/test_distributed.py stops a DDP run by SIGTERM).
    advance = inspect.getsource(_TrainingEpochLoop.advance)
    assert "self._broadcast_sigterm_tensor()" in advance
    trainer = pl.Trainer(logger=False, enable_progress_bar=False, enable_model_summary=False)
    calls = []
    replace_sigterm_broadcast(trainer, lambda: calls.append(1))
    trainer.fit_loop.epoch_loop._broadcast_sigterm_tensor()
    assert calls == [1]


def test_a_step_counted_outside_lightning_optimizer_moves_the_manual_step_counter() -> None:
    # trainer.global_step is read from this counter under manual optimization; the equality
    # of whole runs with and without Lightning's hooks is in tests/test_direct_updates.py.
    trainer = pl.Trainer(logger=False, enable_progress_bar=False, enable_model_summary=False)
    progress = trainer.fit_loop.epoch_loop.manual_optimization.optim_step_progress
    before = (progress.total.ready, progress.total.completed)
    seen = []

    def step() -> None:
        seen.append((progress.total.ready, progress.total.completed))

    counted_step(optimizer_step_progress(trainer), step)
    assert seen == [(before[0] + 1, before[1])]
    assert progress.total.completed == before[1] + 1


def test_the_lean_loop_replaces_the_two_per_batch_methods_of_lightnings_epoch_loop() -> None:
    # The lean loop's equality with Lightning's own loop (hooks, weights, logged values) is
    # in tests/test_lean_loop.py; here, the private names it reads and writes.
    for name in ("advance", "on_advance_end", "_broadcast_sigterm_tensor", "_is_training_done"):
        assert callable(getattr(_TrainingEpochLoop, name, None)) or isinstance(
            getattr(_TrainingEpochLoop, name, None), property
        ), name
    assert list(inspect.signature(_TrainingEpochLoop.advance).parameters) == [
        "self",
        "data_fetcher",
    ]
    trainer = pl.Trainer(logger=False, enable_progress_bar=False, enable_model_summary=False)
    loop = trainer.fit_loop.epoch_loop
    for name in ("batch_progress", "val_loop", "manual_optimization", "_results"):
        assert hasattr(loop, name), name
    assert isinstance(loop._batches_that_stepped, int)
    for name in ("_on_before_step", "_on_after_step"):
        assert callable(getattr(loop.manual_optimization, name)), name
    connector = trainer._logger_connector
    for name in ("on_batch_start", "on_batch_end", "update_train_step_metrics"):
        assert callable(getattr(connector, name)), name
    assert hasattr(trainer.fit_loop, "_data_fetcher")


def test_the_lean_loops_run_asks_done_whenever_lightnings_could_be_done() -> None:
    """The lean `run` is Lightning's, with `done` asked only when the step limit, the
    epoch's last batch, a restart or a stop could make it true: what `done` reads."""
    run = inspect.getsource(_TrainingEpochLoop.run)
    for line in (
        "self.reset()",
        "self.on_run_start(data_fetcher)",
        "while not self.done:",
        "self.advance(data_fetcher)",
        "self.on_advance_end(data_fetcher)",
        "except StopIteration:",
        "self.on_iteration_done()",
    ):
        assert line in run, line
    done = inspect.getsource(_TrainingEpochLoop.done.fget)
    assert "self._is_training_done and self._is_validation_done" in done
    assert "self.trainer.should_stop" in done
    assert "not self.restarting" in inspect.getsource(_TrainingEpochLoop._is_validation_done.fget)
    training_done = inspect.getsource(_TrainingEpochLoop._is_training_done.fget)
    assert "_is_max_limit_reached(self.global_step, self.max_steps)" in training_done
    ready = inspect.getsource(_TrainingEpochLoop._num_ready_batches_reached)
    assert "self.batch_progress.current.ready == self.trainer.num_training_batches" in ready
    assert "self.batch_progress.is_last_batch" in ready
    global_step = inspect.getsource(_TrainingEpochLoop.global_step.fget)
    assert "self.manual_optimization.optim_step_progress.total.completed" in global_step


def test_the_lean_loops_batch_start_leaves_the_logger_state_lightnings_does(monkeypatch):
    trainer = pl.Trainer(logger=False, enable_progress_bar=False, enable_model_summary=False)
    results = trainer.fit_loop.epoch_loop._results
    monkeypatch.setattr(pl.Trainer, "_results", property(lambda _: results))
    connector, batch = trainer._logger_connector, (torch.ones(2), torch.zeros(2))
    states = []
    for on_batch_start in (
        connector.on_batch_start,
        lambda batch: LeanBatchLoop._on_batch_start(connector, results, batch),
    ):
        connector._first_loop_iter, results.batch_size = None, 5
        seen = []
        for _ in range(3):  # None, then True on the first batch, then False
            on_batch_start(batch)
            seen.append(connector._first_loop_iter)
        states.append((seen, results.batch, results.batch_size, results.dataloader_idx))
    assert states[0] == states[1]
    assert states[0][0] == [True, False, False]


@pytest.mark.parametrize(
    ("options", "interval"),
    [({"every_n_train_steps": 7}, 7), ({"every_n_epochs": 2}, 0), ({}, 0)],
)
def test_the_checkpoints_resolved_train_step_interval_is_read(tmp_path, options, interval):
    checkpoint = pl.callbacks.ModelCheckpoint(tmp_path, **options)
    assert train_step_interval(checkpoint) == interval
