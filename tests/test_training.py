"""Short real training runs: a real Trainer, real Hydra composition, real outputs on disk."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from hydra.errors import ConfigCompositionException
from PIL import Image

from ganarena.callbacks import NonFiniteLossGuard
from ganarena.errors import GanArenaError
from ganarena.gan_module import GANModule
from ganarena.run_record import TrainingDiverged
from ganarena.training import train

from .helpers import FAST, PRESETS, read_metrics


def test_default_run_writes_checkpoint_samples_and_metrics(compose_config, tmp_path) -> None:
    run = tmp_path / "run"
    train(compose_config(*FAST, "callbacks.samples.every_n_steps=2", output_dir=run))
    assert (run / "checkpoints" / "last.ckpt").is_file()
    grids = sorted((run / "samples").glob("step_*.png"))
    assert [p.name for p in grids] == ["step_0000002.png", "step_0000004.png"]
    assert Image.open(grids[-1]).size[0] >= 256  # 8x8 digits are enlarged to be seen
    rows = read_metrics(run)
    assert len(rows) == 4
    assert all(np.isfinite(float(row["train/loss_d"])) for row in rows)
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)
    assert checkpoint["global_step"] == 8  # 4 training steps x (1 D step + 1 G step)
    assert checkpoint["hyper_parameters"]["config"]["loss"]["_target_"] == (
        "ganarena.losses.NonSaturating"
    )


#: Two training steps with the samples and the NaN guard only: every preset on every bundled
#: data set stays cheap.
TWO_STEPS = [
    "logger=csv",
    "trainer.max_epochs=1",
    "+trainer.limit_train_batches=2",
    "trainer.log_every_n_steps=1",
    "trainer.enable_model_summary=false",
    "trainer.accelerator=cpu",
    "+trainer.enable_progress_bar=false",
    "callbacks=[samples,nan_guard]",
    "callbacks.samples.every_n_steps=0",
]


@pytest.mark.parametrize("loss", PRESETS)
@pytest.mark.parametrize("data", ["digits", "ring", "grid"])
def test_every_loss_trains_on_every_bundled_data_set(compose_config, tmp_path, loss, data) -> None:
    run = tmp_path / "run"
    train(compose_config(*TWO_STEPS, f"loss={loss}", f"data={data}", output_dir=run))
    rows = read_metrics(run)
    assert [int(row["step"]) for row in rows] == [1, 2]
    assert all(np.isfinite(float(row["train/loss_d"])) for row in rows)
    assert list((run / "samples").glob("*.png"))


def test_two_dimensional_data_writes_a_scatter_plot(compose_config, tmp_path) -> None:
    run = tmp_path / "run"
    train(compose_config(*FAST, "data=ring", output_dir=run))
    image = np.asarray(Image.open(next((run / "samples").glob("*.png"))).convert("RGB"))
    red = (image[..., 0] > 180) & (image[..., 1] < 120) & (image[..., 2] < 120)
    assert red.sum() > 50  # generated points are drawn in red over the grey real ones


def test_n_critic_steps_use_their_own_real_batches(compose_config, tmp_path, monkeypatch) -> None:
    """Each of the n_critic D steps trains on its own batch_size slice of the loader batch."""
    seen: list[torch.Tensor] = []
    real_step = GANModule.discriminator_step

    def recording_step(self, optimizer, real, labels):
        seen.append(real.detach().clone())
        return real_step(self, optimizer, real, labels)

    monkeypatch.setattr(GANModule, "discriminator_step", recording_step)
    run = tmp_path / "run"
    cfg = compose_config(
        *FAST, "data=ring", "loss.n_critic=3", "data.batch_size=16", output_dir=run
    )
    train(cfg)
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)
    assert checkpoint["global_step"] == 4 * (3 + 1)
    assert [len(batch) for batch in seen] == [16] * (4 * 3)
    points = torch.cat(seen)  # 100,000 distinct points, shuffled: no slice is seen twice
    assert len(torch.unique(points, dim=0)) == len(points)


def test_batches_per_step_comes_from_the_loss_and_cannot_be_set(compose_config) -> None:
    with pytest.raises(ConfigCompositionException, match="batches_per_step"):
        compose_config("loss=wgan", "data.batches_per_step=1")
    cfg = compose_config(*FAST, "loss=wgan", "+data.batches_per_step=1")
    with pytest.raises(GanArenaError, match=r"takes no option 'batches_per_step': remove data\."):
        train(cfg)


def test_resume_from_last_checkpoint_continues_at_the_right_step(compose_config, tmp_path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    train(compose_config(*FAST, output_dir=first))
    last = first / "checkpoints" / "last.ckpt"
    train(compose_config(*FAST, "trainer.max_epochs=2", f"ckpt_path={last}", output_dir=second))
    steps = [int(row["step"]) for row in read_metrics(second)]
    assert steps == [5, 6, 7, 8]  # only the second epoch ran, keyed by training steps done
    resumed = torch.load(second / "checkpoints" / "last.ckpt", weights_only=False)
    assert resumed["global_step"] == 16


def test_missing_checkpoint_names_the_fix(compose_config) -> None:
    with pytest.raises(GanArenaError, match=r"ckpt_path '/nowhere\.ckpt' is not a file"):
        train(compose_config(*FAST, "ckpt_path=/nowhere.ckpt"))


def test_image_size_the_network_cannot_make_names_the_fix(compose_config) -> None:
    with pytest.raises(GanArenaError, match=r"set data.image_size=32"):
        train(compose_config(*FAST, "data.image_size=30"))


def test_point_data_with_convolutional_networks_names_model_points(compose_config) -> None:
    with pytest.raises(GanArenaError, match="use model=points"):
        train(compose_config(*FAST, "data=ring", "model=dcgan"))


def test_missing_image_folder_names_the_data_path(compose_config, tmp_path) -> None:
    with pytest.raises(GanArenaError, match=r"set data\.path="):
        train(compose_config(*FAST, "data=image_folder", f"data.path={tmp_path}/missing"))


def test_offline_torchvision_data_says_where_to_put_the_files(compose_config, offline) -> None:
    with pytest.raises(GanArenaError, match="MNIST/raw") as error:
        train(compose_config(*FAST, "data=mnist"))
    assert "\n" not in str(error.value)


def test_nan_loss_stops_with_one_line_and_keeps_the_checkpoint(compose_config, tmp_path) -> None:
    run = tmp_path / "run"
    train(compose_config(*FAST, output_dir=run))
    before = (run / "checkpoints" / "last.ckpt").read_bytes()
    cfg = compose_config(
        *FAST,
        "callbacks.nan_guard.every_n_steps=1",
        "optimizer.discriminator.lr=1e38",  # one step and D's scores overflow
        output_dir=run,
    )
    expected = r"train/loss_(d|g) is (nan|inf|-inf) at training step 1:"
    with pytest.raises(GanArenaError, match=expected) as error:
        train(cfg)
    assert "\n" not in str(error.value)
    assert (run / "checkpoints" / "last.ckpt").read_bytes() == before


def test_a_run_shorter_than_the_check_interval_is_checked_on_its_last_step(
    compose_config, tmp_path
) -> None:
    run = tmp_path / "run"
    train(compose_config(*FAST, output_dir=run))
    before = (run / "checkpoints" / "last.ckpt").read_bytes()
    cfg = compose_config(*FAST, "optimizer.discriminator.lr=1e38", output_dir=run)
    assert cfg.callbacks.nan_guard.every_n_steps > 4  # FAST runs 4 steps: no step check
    with pytest.raises(
        GanArenaError, match=r"train/loss_(d|g) is (nan|inf|-inf) at training step 4:"
    ):
        train(cfg)
    assert (run / "checkpoints" / "last.ckpt").read_bytes() == before


def test_step_seeding_on_the_cpu_draws_what_torch_manual_seed_draws() -> None:
    """The cheap CPU seeding (no queued CUDA seed) must not change any run's draws."""
    from ganarena.seeding import seed_draws, step_seed

    seed = step_seed(42, 0, 7)
    seed_draws(seed, torch.device("cpu"))
    cheap = torch.randn(5), torch.rand(3), torch.randint(0, 9, (4,))
    torch.manual_seed(seed)
    reference = torch.randn(5), torch.rand(3), torch.randint(0, 9, (4,))
    assert all(torch.equal(a, b) for a, b in zip(cheap, reference, strict=True))
    assert torch.initial_seed() == seed


def test_a_frozen_network_gets_no_gradients_and_keeps_its_own_frozen_parameters() -> None:
    from ganarena.networks.modes import frozen

    generator, discriminator = (
        torch.nn.Linear(2, 2),
        torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 1)),
    )
    discriminator[0].bias.requires_grad_(False)  # the user's own choice, kept
    with frozen(discriminator):
        discriminator(generator(torch.randn(3, 2))).sum().backward()
    assert all(p.grad is not None for p in generator.parameters())
    assert all(p.grad is None for p in discriminator.parameters())
    assert [p.requires_grad for p in discriminator.parameters()] == [True, False, True, True]


@pytest.mark.parametrize(
    ("loss_d", "loss_g", "penalty", "bad"),
    [
        (0.5, 0.7, None, None),
        (0.5, float("nan"), None, "train/loss_g is nan"),
        (0.5, 0.7, float("-inf"), "train/penalty_d is -inf"),
        (float("inf"), float("-inf"), None, "train/loss_d is inf"),  # a sum would be nan
        (3e38, 3e38, None, None),  # finite, though their float32 sum is not
    ],
)
def test_the_guard_names_the_first_loss_that_is_not_a_number(loss_d, loss_g, penalty, bad):
    def tensor(value):
        return None if value is None else torch.tensor(value, dtype=torch.float32)

    record = SimpleNamespace(
        discriminator_loss=tensor(loss_d), generator_loss=tensor(loss_g), penalty=tensor(penalty)
    )
    module = SimpleNamespace(training_steps=7, last_training_step=record)
    if bad is None:
        NonFiniteLossGuard().check(module)
    else:
        with pytest.raises(TrainingDiverged, match=f"^{bad} at training step 7: lower"):
            NonFiniteLossGuard().check(module)
