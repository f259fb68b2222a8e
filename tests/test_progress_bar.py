"""One progress bar over the whole run, in training steps, with its speed and latest values."""

from __future__ import annotations

import io
import re

import lightning.pytorch as pl
import pytest
import torch
from rich.console import Console

from ganarena.callbacks import GANProgressBar
from ganarena.data import DigitsDataModule
from ganarena.errors import GanArenaError
from ganarena.gan_module import GANModule
from ganarena.losses import NonSaturating
from ganarena.networks import MLPDiscriminator, MLPGenerator

STEPS_PER_EPOCH = 28  # 1,797 digits in batches of 64


def adam(params):
    return torch.optim.Adam(params, lr=2e-4, betas=(0.5, 0.999))


class LogsAUserValue(pl.Callback):
    """A user's callback: Lightning's own `log`, shown on the bar with `prog_bar=True`."""

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        pl_module.log("user/answer", 42.0, prog_bar=True)


def fit(bar: GANProgressBar, epochs: int = 2) -> GANModule:
    torch.manual_seed(0)
    shape = (1, 8, 8)
    module = GANModule(MLPGenerator(shape), MLPDiscriminator(shape), NonSaturating(), adam, adam)
    trainer = pl.Trainer(
        max_epochs=epochs, logger=False, callbacks=[bar, LogsAUserValue()],
        enable_checkpointing=False, enable_model_summary=False, accelerator="cpu",
        log_every_n_steps=10,
    )  # fmt: skip
    trainer.fit(module, datamodule=DigitsDataModule(batch_size=64))
    return module


def test_a_terminal_shows_one_bar_over_the_whole_run_with_speed_and_values() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=200, record=True)
    fit(GANProgressBar(console=console))
    text = console.export_text()
    total = 2 * STEPS_PER_EPOCH
    assert f"{total}/{total}" in text  # one task across both epochs, never restarted
    assert f"{STEPS_PER_EPOCH}/{STEPS_PER_EPOCH} " not in text
    final = [line for line in text.splitlines() if f"{total}/{total}" in line][-1]
    speed = re.search(r"([\d,.]+) steps/s", final)
    assert speed and float(speed.group(1).replace(",", "")) > 0
    assert re.search(r"loss_d -?[\d.]+", final) and re.search(r"loss_g -?[\d.]+", final)
    assert "answer 42" in final


def test_off_a_terminal_it_writes_plain_lines_with_the_time_left() -> None:
    output = io.StringIO()
    console = Console(file=output, force_terminal=False, width=80)
    fit(GANProgressBar(console=console, plain_every_seconds=0), epochs=1)
    lines = output.getvalue().splitlines()
    assert len(lines) == STEPS_PER_EPOCH + 1  # every step here, and one at the end
    assert re.match(r"training step 1/28 +[\d.]+ steps/s +eta \d:\d\d:\d\d", lines[0])
    assert lines[-1].startswith(f"training step {STEPS_PER_EPOCH}/{STEPS_PER_EPOCH}")
    assert "loss_d" in lines[-1] and "answer 42" in lines[-1]


def test_a_refresh_rate_that_is_not_positive_names_the_setting() -> None:
    with pytest.raises(GanArenaError, match=r"callbacks\.rich_progress_bar\.refresh_per_second"):
        GANProgressBar(refresh_per_second=0)
