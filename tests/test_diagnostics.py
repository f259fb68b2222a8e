"""Training diagnostics: the gradient view of minimax vs non-saturating on a fixed D."""

from __future__ import annotations

import lightning.pytorch as pl
import pytest
import torch
from lightning.pytorch.loggers import CSVLogger
from torch import nn

from ganarena.callbacks import TrainingDiagnostics
from ganarena.data import DigitsDataModule
from ganarena.gan_module import GANModule
from ganarena.losses import Minimax, NonSaturating
from ganarena.networks import DCGANGenerator

from .helpers import column, read_metrics


class RejectingDiscriminator(nn.Module):
    """D(x) = mean(x) - 20: every sample, fake or real, gets σ(D) ≈ 2e-9."""

    def __init__(self) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.tensor(-20.0))

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return x.flatten(1).mean(1) + self.bias


def fixed_d_run(loss, tmp_path) -> dict[str, float]:
    torch.manual_seed(0)
    datamodule = DigitsDataModule(batch_size=32)
    module = GANModule(
        DCGANGenerator(datamodule.sample_shape),
        RejectingDiscriminator(),
        loss,
        lambda p: torch.optim.SGD(p, lr=0.0),
        lambda p: torch.optim.SGD(p, lr=0.0),
    )
    trainer = pl.Trainer(
        accelerator="cpu",
        max_steps=4,
        log_every_n_steps=1,
        logger=CSVLogger(tmp_path, "csv", ""),
        callbacks=[TrainingDiagnostics()],
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(module, datamodule=datamodule)
    rows = read_metrics(tmp_path)
    return {
        key: column(rows, key)[0]
        for key in ["diag/grad_norm_g", "diag/weight_g", "diag/p_fake", "diag/acc_fake"]
    }


def test_minimax_generator_gradient_vanishes_when_d_rejects_the_fakes(tmp_path) -> None:
    minimax = fixed_d_run(Minimax(), tmp_path / "mm")
    nonsaturating = fixed_d_run(NonSaturating(), tmp_path / "ns")
    assert minimax["diag/acc_fake"] == nonsaturating["diag/acc_fake"] == 1.0
    assert minimax["diag/p_fake"] < 1e-8
    # The G sample weights (G step, fresh noise): σ(f) ≈ 2e-9 for minimax, 1 - σ(f) ≈ 1
    # for non-saturating ...
    assert minimax["diag/weight_g"] == pytest.approx(minimax["diag/p_fake"], rel=0.05)
    assert nonsaturating["diag/weight_g"] == pytest.approx(1.0, abs=1e-6)
    # ... and so the logged gradient norms of G are ~1e9 apart.
    assert nonsaturating["diag/grad_norm_g"] > 0
    assert minimax["diag/grad_norm_g"] < 1e-6 * nonsaturating["diag/grad_norm_g"]


def test_every_n_steps_must_be_a_multiple_of_the_logging_interval(compose_config) -> None:
    from ganarena.errors import GanArenaError
    from ganarena.training import train

    from .helpers import FAST

    cfg = compose_config(
        *FAST,
        "trainer.log_every_n_steps=2",
        "callbacks.diagnostics.every_n_steps=3",
        "~callbacks.fid",
        "~callbacks.class_coverage",
    )
    with pytest.raises(GanArenaError, match="every_n_steps=3 is not a multiple"):
        train(cfg)
