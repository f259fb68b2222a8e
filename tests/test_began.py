"""BEGAN: its autoencoder discriminator, the k_t controller, and k_t across a resume."""

from __future__ import annotations

import math

import pytest
import torch

from ganarena import ranks
from ganarena.errors import GanArenaError
from ganarena.losses import BEGAN
from ganarena.networks import AutoencoderDiscriminator, MLPDiscriminator
from ganarena.training import train

from .helpers import FAST, read_metrics


def k_after(loss: BEGAN, real_errors: list[float], fake_errors: list[float]) -> float:
    loss.update_state(torch.tensor(real_errors), torch.tensor(fake_errors))
    return loss.k.item()


def test_k_follows_the_controller_and_m_the_convergence_measure() -> None:
    loss = BEGAN(gamma=0.5, lambda_k=0.1, k_init=0.2)
    real, fake = [0.4, 0.8], [0.1, 0.2]  # means 0.6 and 0.15; γ·0.6 - 0.15 = 0.15
    assert k_after(loss, real, fake) == pytest.approx(0.2 + 0.1 * 0.15)
    assert loss.convergence.item() == pytest.approx(0.6 + abs(0.15))
    values = loss.log_values()
    assert set(values) == {"k_t", "convergence"}
    assert values["k_t"].item() == pytest.approx(0.215)


def test_k_is_clamped_to_zero_and_one() -> None:
    loss = BEGAN(gamma=0.5, lambda_k=10.0, k_init=0.5)
    assert k_after(loss, [1.0], [0.0]) == 1.0  # 0.5 + 10·0.5 = 5.5 → 1
    assert k_after(loss, [1.0], [0.0]) == 1.0
    assert k_after(loss, [0.0], [1.0]) == 0.0  # 1 - 10 → 0
    assert k_after(loss, [0.0], [3.0]) == 0.0
    for _ in range(100):
        real, fake = torch.rand(8) * 5, torch.rand(8) * 5
        loss.update_state(real, fake)
        assert 0.0 <= loss.k.item() <= 1.0


def test_discriminator_loss_uses_the_current_k() -> None:
    loss = BEGAN(gamma=0.5, lambda_k=0.1, k_init=0.0)
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([2.0, 2.0])
    assert loss.discriminator_loss(real, fake).item() == pytest.approx(2.0)
    loss.update_state(torch.tensor([4.0]), torch.tensor([0.0]))  # k = 0 + 0.1·2 = 0.2
    assert loss.discriminator_loss(real, fake).item() == pytest.approx(2.0 - 0.2 * 2.0)


def test_k_statistics_are_averaged_across_ranks(monkeypatch) -> None:
    """Under DDP every rank must update k_t from the same (all-reduced) batch statistics."""
    other_rank = torch.tensor([0.2, 0.0])  # the other rank's E e(x), E e(G(z))

    def all_reduce(tensor: torch.Tensor, op: object = None) -> None:  # the sum, as gloo's
        tensor += other_rank

    monkeypatch.setattr(ranks.dist, "is_initialized", lambda: True)
    monkeypatch.setattr(ranks.dist, "get_rank", lambda: 0)
    monkeypatch.setattr(ranks.dist, "get_world_size", lambda: 2)
    monkeypatch.setattr(ranks.dist, "all_reduce", all_reduce)
    loss = BEGAN(gamma=0.5, lambda_k=1.0, k_init=0.0)
    # Local means 1.0 and 0.2; averaged with the other rank: 0.6 and 0.1 → k = 0.5·0.6 - 0.1.
    assert k_after(loss, [1.0], [0.2]) == pytest.approx(0.2)
    assert loss.convergence.item() == pytest.approx(0.6 + 0.2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"gamma": 1.5}, r"BEGAN gamma must be in \[0, 1\]"),
        ({"lambda_k": -1e-3}, r"BEGAN lambda_k must be >= 0"),
        ({"k_init": -0.1}, r"BEGAN k_init must be in \[0, 1\]"),
    ],
)
def test_bad_began_options_name_the_fix(kwargs, message) -> None:
    with pytest.raises(GanArenaError, match=message):
        BEGAN(**kwargs)


def test_began_with_a_non_autoencoder_discriminator_names_the_fix() -> None:
    with pytest.raises(GanArenaError, match="needs an autoencoder discriminator") as error:
        BEGAN().check_compatible(MLPDiscriminator((2,)))
    assert "AutoencoderDiscriminator" in str(error.value) and "\n" not in str(error.value)
    BEGAN().check_compatible(AutoencoderDiscriminator((2,)))


@pytest.mark.parametrize("data_shape", [(2,), (1, 8, 8), (3, 16, 16), (1, 28, 28)])
def test_autoencoder_scores_each_sample_by_its_mean_absolute_reconstruction_error(
    data_shape,
) -> None:
    torch.manual_seed(0)
    network = AutoencoderDiscriminator(data_shape, hidden_dim=32, width=8)
    x = torch.randn(5, *data_shape)
    scores = network(x)
    assert scores.shape == (5,)
    expected = (x - network.reconstruct(x)).abs().flatten(1).mean(dim=1)
    assert torch.allclose(scores, expected)
    assert (scores >= 0).all()
    assert network.reconstruct(x).shape == x.shape


def test_autoencoder_takes_every_key_of_both_model_configs() -> None:
    keys = {"width": 8, "hidden_dim": 16, "depth": 2, "init": "dcgan", "num_classes": None}
    for data_shape in [(2,), (1, 8, 8)]:
        network = AutoencoderDiscriminator(data_shape, normalization="spectral", **keys)
        assert network.normalization == "spectral" and network.is_autoencoder


def test_k_is_saved_in_checkpoints_and_restored_on_resume(compose_config, tmp_path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    fast_k = ["loss=began", "data=ring", "loss.k_init=0.5", "loss.lambda_k=0.05"]
    train(compose_config(*FAST, *fast_k, output_dir=first))
    rows = read_metrics(first)
    assert all(0.0 <= float(row["train/k_t"]) <= 1.0 for row in rows)
    assert all(math.isfinite(float(row["train/convergence"])) for row in rows)
    saved = torch.load(first / "checkpoints" / "last.ckpt", weights_only=False)
    k_saved = saved["state_dict"]["loss.k"].item()
    assert k_saved == pytest.approx(float(rows[-1]["train/k_t"]))
    assert k_saved != 0.5  # it moved, so a resume that starts from k_init would show

    # Resume with a different k_init: the checkpoint's k_t must win.
    train(
        compose_config(
            *FAST,
            *fast_k[:2],
            "loss.k_init=0.0",
            "loss.lambda_k=0.05",
            "trainer.max_epochs=2",
            f"ckpt_path={first / 'checkpoints' / 'last.ckpt'}",
            output_dir=second,
        )
    )
    resumed = read_metrics(second)
    assert int(resumed[0]["step"]) == 5
    # One controller step moves k by at most λ_k·|γ E e(x) - E e(G(z))|, far less than 0.5.
    assert float(resumed[0]["train/k_t"]) == pytest.approx(k_saved, abs=0.1)
    assert float(resumed[0]["train/k_t"]) > 0.2
