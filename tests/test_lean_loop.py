"""The lean batch loop (`ganarena.compat.LeanBatchLoop`): the same training, the same hook
calls, the same logged values as Lightning's own epoch loop, and Lightning's loop wherever
the lean one does not fit."""

from __future__ import annotations

import lightning.pytorch as pl
import pytest
import torch
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.profilers import SimpleProfiler

import ganarena.gan_module
from ganarena.data import DigitsDataModule
from ganarena.gan_module import GANModule
from ganarena.losses import NonSaturating
from ganarena.networks import DCGANDiscriminator, DCGANGenerator

STEPS, BATCH = 30, 64  # 1,797 digits / 64 = 28 batches: the run crosses an epoch's end


def adam(params):
    return torch.optim.Adam(params, lr=2e-4, betas=(0.5, 0.999))


class HookRecorder(pl.Callback):
    """Records every batch hook as (hook, batch index, training steps, first real value),
    and logs through `LightningModule.log` on each batch end."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int, float]] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.calls.append(
            ("start", batch_idx, pl_module.training_steps, float(batch[0][0, 0, 0, 0]))
        )

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        assert outputs == {}
        first = float(batch[0][0, 0, 0, 0])
        self.calls.append(("end", batch_idx, pl_module.training_steps, first))
        pl_module.log("recorder/steps", float(pl_module.training_steps))


class TransferringModule(GANModule):
    """Overrides a batch transfer hook: every batch must pass through it."""

    transfers = 0

    def transfer_batch_to_device(self, batch, device, dataloader_idx):
        self.transfers += 1
        return super().transfer_batch_to_device(batch, device, dataloader_idx)


class BatchStartModule(GANModule):
    def on_train_batch_start(self, batch, batch_idx) -> None:
        pass


def train(tmp_path, *callbacks, module_class=GANModule, monkeypatch=None, **options):
    """A short DCGAN run on the digits; through Lightning's own epoch loop when given
    `monkeypatch`."""
    if monkeypatch is not None:
        monkeypatch.setattr(ganarena.gan_module, "why_lightning_batches", lambda *_: "asked")
    torch.manual_seed(0)
    shape = (1, 8, 8)
    module = module_class(
        DCGANGenerator(shape), DCGANDiscriminator(shape), NonSaturating(), adam, adam
    )
    options = {"max_steps": 2 * STEPS, **options}
    trainer = pl.Trainer(
        log_every_n_steps=7,
        logger=CSVLogger(tmp_path, name="csv"),
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=list(callbacks),
        **options,
    )
    trainer.fit(module, datamodule=DigitsDataModule(batch_size=BATCH))
    return module


def test_the_lean_loop_trains_calls_hooks_and_logs_as_lightnings_loop(tmp_path, monkeypatch):
    lean_recorder, lightning_recorder = HookRecorder(), HookRecorder()
    lean = train(tmp_path / "lean", lean_recorder)
    assert lean.lightning_batches_because is None
    lightning = train(tmp_path / "lightning", lightning_recorder, monkeypatch=monkeypatch)
    assert lightning.lightning_batches_because == "asked"

    assert lean_recorder.calls == lightning_recorder.calls
    assert len(lean_recorder.calls) == 2 * STEPS
    assert lean_recorder.calls[-2][1:3] == (STEPS - 28 - 1, STEPS - 1)  # the second epoch's
    assert lean.trainer.current_epoch == lightning.trainer.current_epoch
    for trainer in (lean.trainer, lightning.trainer):
        assert trainer.global_step == 2 * STEPS
        assert float(trainer.callback_metrics["recorder/steps"]) == STEPS
    for (name, mine), (_, theirs) in zip(
        lean.state_dict().items(), lightning.state_dict().items(), strict=True
    ):
        assert torch.equal(mine, theirs), name
    lean_rows = (tmp_path / "lean/csv/version_0/metrics.csv").read_text()
    assert lean_rows == (tmp_path / "lightning/csv/version_0/metrics.csv").read_text()
    assert "recorder/steps" in lean_rows.splitlines()[0]


def test_the_trainer_gets_its_own_epoch_loop_back_after_fit(tmp_path) -> None:
    module = train(tmp_path)
    assert module.lightning_batches_because is None
    loop = module.trainer.fit_loop.epoch_loop
    assert not {"run", "advance", "on_advance_end"} & set(vars(loop))


class StopAt(pl.Callback):
    """Asks the trainer to stop after training step `step` (as EarlyStopping does)."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer, pl_module, *args) -> None:
        if pl_module.training_steps == self.step:
            trainer.should_stop = True


@pytest.mark.parametrize(
    ("options", "stop_at", "last"),
    [({}, 11, 11), ({"max_steps": -1, "max_epochs": 1}, 0, 28)],
)
def test_the_lean_loop_stops_where_lightnings_does(
    tmp_path, monkeypatch, options, stop_at, last
) -> None:
    """A stop asked for mid-epoch, and the last epoch's end with no step limit."""
    runs = []
    for name, patch in (("lean", None), ("lightning", monkeypatch)):
        recorder = HookRecorder()
        train(tmp_path / name, recorder, StopAt(stop_at), monkeypatch=patch, **options)
        runs.append(recorder.calls)
    assert runs[0] == runs[1]
    assert runs[0][-1][2] == last


def test_a_batch_transfer_hook_is_called_on_every_batch(tmp_path) -> None:
    module = train(tmp_path, module_class=TransferringModule)
    assert module.lightning_batches_because is None
    assert module.transfers == STEPS


@pytest.mark.parametrize(
    ("module_class", "options", "reason"),
    [
        (BatchStartModule, {}, "BatchStartModule overrides on_train_batch_start"),
        (GANModule, {"profiler": SimpleProfiler()}, "the profiler SimpleProfiler times each hook"),
    ],
)
def test_what_the_lean_loop_cannot_do_goes_through_lightnings_loop(
    tmp_path, module_class, options, reason
) -> None:
    module = train(tmp_path, module_class=module_class, **options)
    assert module.lightning_batches_because == reason
    assert module.trainer.global_step == 2 * STEPS


class StepCountChecker(pl.Callback):
    """Compares the module's training-step count with the trainer's global step, each batch."""

    def __init__(self) -> None:
        self.pairs: list[tuple[int, int]] = []

    def on_train_batch_end(self, trainer, pl_module, *args) -> None:
        self.pairs.append((pl_module.training_steps, trainer.global_step))


def test_the_step_count_read_during_fit_is_the_trainers(tmp_path):
    """`training_steps` reads Lightning's optimizer-step count directly during fit; it must
    agree with `trainer.global_step` at every step, and after fit read the trainer again."""
    checker = StepCountChecker()
    module = train(tmp_path, checker)
    assert checker.pairs == [(step, 2 * step) for step in range(1, STEPS + 1)]
    assert module._optimizer_steps is None  # nothing of the finished fit's trainer is kept
    assert module.training_steps == module.trainer.global_step // 2 == STEPS


class PeriodicRecorder(pl.Callback):
    """Acts at batch ends every `interval` training steps: records the steps it is called on."""

    def __init__(self, interval: int) -> None:
        self.interval = interval
        self.steps: list[int] = []

    def batch_end_interval(self, trainer, pl_module) -> int:
        return self.interval

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.steps.append(pl_module.training_steps)


@pytest.mark.parametrize(
    ("interval", "called_at"),
    [(7, [7, 14, 21, 28, 30]), (0, [30]), (1, list(range(1, STEPS + 1)))],
)
def test_a_batch_end_hook_with_an_interval_is_called_on_those_steps_and_the_last(
    tmp_path, monkeypatch, interval, called_at
) -> None:
    lean = PeriodicRecorder(interval)
    train(tmp_path / "lean", lean)
    assert lean.steps == called_at
    lightning = PeriodicRecorder(interval)
    train(tmp_path / "lightning", lightning, monkeypatch=monkeypatch)
    assert lightning.steps == list(range(1, STEPS + 1))  # Lightning's loop: every batch
