"""`GANModelCheckpoint`: Lightning's ModelCheckpoint, with nothing to do at epoch ends where it
saves nothing, and the same files as Lightning's wherever it saves."""

from __future__ import annotations

import lightning.pytorch as pl
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from ganarena.callbacks import GANModelCheckpoint
from ganarena.data import DigitsDataModule
from ganarena.gan_module import GANModule
from ganarena.losses import NonSaturating
from ganarena.networks import DCGANDiscriminator, DCGANGenerator


def adam(params):
    return torch.optim.Adam(params, lr=2e-4)


def fit(folder, checkpoint_class, n_critic: int = 1, **options) -> list[str]:
    """Three epochs of two or three steps on the digits (batches of 600 real images a
    training step); the files saved."""
    checkpoint = checkpoint_class(
        folder, filename="step-{step}", auto_insert_metric_name=False, save_top_k=-1, **options
    )
    networks = DCGANGenerator((1, 8, 8)), DCGANDiscriminator((1, 8, 8))
    module = GANModule(*networks, NonSaturating(n_critic=n_critic), adam, adam)
    trainer = pl.Trainer(
        max_epochs=3,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[checkpoint],
        default_root_dir=folder,
    )
    trainer.fit(module, datamodule=DigitsDataModule(batch_size=600 // n_critic))
    return sorted(path.name for path in folder.glob("*.ckpt"))


@pytest.mark.parametrize(
    ("options", "copies"),
    [
        ({"every_n_train_steps": 1000}, 0),  # optimizer steps, none of which come in the run
        ({"every_n_train_steps": 3}, None),  # every third optimizer step: a copy per save
        ({"every_n_epochs": 1}, 3),  # the end of each epoch
    ],
)
def test_epoch_ends_copy_the_metrics_only_where_the_checkpoint_saves_there(
    tmp_path, monkeypatch, options, copies
) -> None:
    copied = []
    monitor_candidates = ModelCheckpoint._monitor_candidates

    def counted(self, trainer):
        copied.append(trainer.global_step)
        return monitor_candidates(self, trainer)

    monkeypatch.setattr(ModelCheckpoint, "_monitor_candidates", counted)
    files = fit(tmp_path / "gan-arena", GANModelCheckpoint, **options)
    gan_arena_copies, copied[:] = len(copied), []
    assert files == fit(tmp_path / "lightning", ModelCheckpoint, **options)
    assert gan_arena_copies == (len(files) if copies is None else copies)
    assert len(files) > 0 or copies == 0


@pytest.mark.parametrize(("n_critic", "every"), [(1, 3), (2, 4), (3, 6)])
def test_the_batch_ends_it_acts_on_are_those_where_lightnings_saves(tmp_path, n_critic, every):
    """Under the lean loop its batch-end hook runs every every / gcd(every, n_critic + 1)
    training steps (`batch_end_interval`): the saves are Lightning's all the same."""
    options = {"n_critic": n_critic, "every_n_train_steps": every}
    files = fit(tmp_path / "gan-arena", GANModelCheckpoint, **options)
    assert files == fit(tmp_path / "lightning", ModelCheckpoint, **options)
    assert files
