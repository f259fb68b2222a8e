"""The module knows which training step ends the fit (`GANModule.is_last_step`), from the
trainer's limits (`ganarena.run_length`): it logs that step and the callbacks save and check
it; the fit's planned length is the same number."""

from __future__ import annotations

import lightning.pytorch as pl
import pytest
import torch

from ganarena.data import DigitsDataModule
from ganarena.gan_module import GANModule
from ganarena.losses import NonSaturating
from ganarena.networks import DCGANDiscriminator, DCGANGenerator

BATCH = 64  # 1,797 digits / 64 = 28 batches an epoch (14 training steps at n_critic 2)


def adam(params):
    return torch.optim.Adam(params, lr=2e-4, betas=(0.5, 0.999))


class StopRecorder(pl.Callback):
    """(training step, batch index, stops after it, logs it) at each batch end."""

    def __init__(self) -> None:
        self.steps: list[tuple[int, int, bool, bool]] = []
        self.module: GANModule | None = None

    def on_train_start(self, trainer, pl_module) -> None:
        self.module = pl_module

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        step = pl_module.training_steps
        self.steps.append((step, batch_idx, pl_module.is_last_step, pl_module.logs_this_step))


def fit(module: GANModule, n_critic: int, **limits) -> StopRecorder:
    recorder = StopRecorder()
    trainer = pl.Trainer(
        logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, log_every_n_steps=1000, callbacks=[recorder], **limits,
    )  # fmt: skip
    trainer.fit(module, datamodule=DigitsDataModule(batch_size=BATCH))
    assert module.training_steps == recorder.steps[-1][0]
    return recorder


def gan(n_critic: int) -> GANModule:
    torch.manual_seed(0)
    shape = (1, 8, 8)
    loss = NonSaturating(n_critic=n_critic)
    return GANModule(DCGANGenerator(shape), DCGANDiscriminator(shape), loss, adam, adam)


@pytest.mark.parametrize(
    ("n_critic", "limits", "last"),
    [
        (1, {"max_steps": 2 * 30}, 30),  # crosses an epoch's end
        (2, {"max_steps": 3 * 17 - 1}, 17),  # 50 optimizer steps: the 17th step reaches it
        (1, {"max_epochs": 2}, 2 * 28),  # not the first epoch's last batch, the second's
        (2, {"max_epochs": 2, "max_steps": 3 * 20}, 20),  # the nearer of the two
    ],
)
def test_only_the_last_step_stops_the_fit_and_it_logs(n_critic, limits, last) -> None:
    recorder = fit(gan(n_critic), n_critic, **limits)
    assert recorder.steps[-1][0] == last
    assert [step for step, _, stops, _ in recorder.steps if stops] == [last]
    assert [step for step, _, _, logs in recorder.steps if logs] == [last]
    module = recorder.module
    assert module.planned_steps == last


def test_a_second_fit_works_out_its_own_limits() -> None:
    module = gan(1)
    fit(module, 1, max_steps=2 * 5)
    recorder = fit(module, 1, max_steps=2 * 40)  # a new trainer: counted from 0 again
    assert [step for step, _, stops, _ in recorder.steps if stops] == [40]
