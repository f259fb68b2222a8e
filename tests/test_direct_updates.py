"""Updates that skip Lightning's hooks where nothing listens: the same training, and every
listener still called when it asks."""

from __future__ import annotations

import lightning.pytorch as pl
import pytest
import torch

import ganarena.gan_module
from ganarena.data import DigitsDataModule
from ganarena.gan_module import GANModule
from ganarena.losses import NonSaturating
from ganarena.networks import DCGANDiscriminator, DCGANGenerator

STEPS, LOG_EVERY = 12, 5  # logging steps: 5, 10 and the last, 12


def adam(params):
    return torch.optim.Adam(params, lr=2e-4, betas=(0.5, 0.999))


class StepListener(pl.Callback):
    """Counts the optimizer steps it is told of."""

    def __init__(self) -> None:
        self.calls = 0

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        self.calls += 1


class LoggingStepListener(StepListener):
    update_hooks_on_logging_steps_only = True


class BackwardHookModule(GANModule):
    def on_after_backward(self) -> None:
        pass


def train(*callbacks: pl.Callback, module_class=GANModule, **trainer_options) -> GANModule:
    torch.manual_seed(0)
    datamodule = DigitsDataModule(batch_size=32)
    shape = (1, 8, 8)
    module = module_class(
        DCGANGenerator(shape), DCGANDiscriminator(shape), NonSaturating(), adam, adam
    )
    trainer = pl.Trainer(
        max_steps=2 * STEPS,
        log_every_n_steps=LOG_EVERY,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=list(callbacks),
        **trainer_options,
    )
    trainer.fit(module, datamodule=datamodule)
    return module


def test_direct_updates_train_exactly_as_lightnings_hooked_ones() -> None:
    direct = train()
    listener = StepListener()
    hooked = train(listener)
    assert direct.lightning_updates_because is None
    assert "the callback StepListener implements on_before_optimizer_step" in (
        hooked.lightning_updates_because or ""
    )
    assert listener.calls == 2 * STEPS  # a listener on every step is called on every step
    assert direct.trainer.global_step == hooked.trainer.global_step == 2 * STEPS
    for (name, mine), (_, theirs) in zip(
        direct.state_dict().items(), hooked.state_dict().items(), strict=True
    ):
        assert torch.equal(mine, theirs), name


class UpdateHookRecorder(pl.Callback):
    """Records each update hook as Lightning calls it: (hook, training step, the hook the
    module is told runs, the argument's type, the gradient norm of D's last layer)."""

    update_hooks_on_logging_steps_only = True

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def _record(self, name: str, pl_module, argument=None) -> None:
        grad = list(pl_module.discriminator.parameters())[-1].grad
        norm = None if grad is None else float(grad.norm())
        step = pl_module.current_training_step
        self.calls.append((name, step, pl_module._current_fx_name, type(argument), norm))

    def on_before_backward(self, trainer, pl_module, loss) -> None:
        self._record("on_before_backward", pl_module, loss)

    def on_after_backward(self, trainer, pl_module) -> None:
        self._record("on_after_backward", pl_module)

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        self._record("on_before_optimizer_step", pl_module, optimizer)


def test_a_listener_of_logging_steps_only_is_called_on_each_of_them() -> None:
    listener = LoggingStepListener()
    module = train(listener)
    assert module.lightning_updates_because is None
    assert listener.calls == 2 * 3  # D and G steps of steps 5, 10 and 12


def test_on_logging_steps_the_direct_update_calls_the_hooks_as_lightning_does(
    monkeypatch,
) -> None:
    direct = UpdateHookRecorder()
    assert train(direct).lightning_updates_because is None
    hooked = UpdateHookRecorder()
    monkeypatch.setattr(ganarena.gan_module, "why_lightning_updates", lambda *_: "asked")
    assert train(hooked).lightning_updates_because == "asked"
    logging_steps = [call for call in hooked.calls if call[1] in (5, 10, 12)]
    assert direct.calls == logging_steps
    assert len(direct.calls) == 3 * 2 * 3  # three hooks, D and G updates, steps 5, 10, 12
    assert direct.calls[:3] == [
        ("on_before_backward", 5, "on_before_backward", torch.Tensor, None),
        ("on_after_backward", 5, "on_after_backward", type(None), direct.calls[1][4]),
        ("on_before_optimizer_step", 5, "on_before_optimizer_step", torch.optim.Adam,
         direct.calls[1][4]),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("options", "module_class", "reason"),
    [
        ({"profiler": "simple"}, GANModule, "the profiler SimpleProfiler times the hooks"),
        ({}, BackwardHookModule, "BackwardHookModule overrides on_after_backward"),
        ({"precision": "bf16-mixed"}, GANModule, None),  # autocast only: nothing at the step
    ],
)
def test_what_makes_every_update_go_through_lightning(options, module_class, reason) -> None:
    module = train(module_class=module_class, **options)
    assert module.lightning_updates_because == reason
