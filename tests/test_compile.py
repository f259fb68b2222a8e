"""The fast path (`compile=...`, `module.channels_last=true`) trains to the eager losses."""

from __future__ import annotations

import pytest
import torch

from ganarena.training import train

from .helpers import FAST, column, read_metrics

LOSSES = ("train/loss_d", "train/loss_g")


def losses_of(compose_config, tmp_path, name: str, *overrides: str) -> dict[str, list[float]]:
    run = tmp_path / name
    train(compose_config(*FAST, *overrides, output_dir=run))
    rows = read_metrics(run)
    return {key: column(rows, key) for key in LOSSES}


@pytest.mark.parametrize(
    "overrides",
    [
        [],
        ["loss=wgan_gp"],  # the penalty's double backward through the eager D
        ["loss=r3gan", "augment=diffaugment"],  # R1 + R2 and augmentation in front of D
        ["conditioning=projection", "model=sndcgan"],
    ],
    ids=["default", "wgan_gp", "r3gan_diffaugment", "projection_sndcgan"],
)
def test_compiled_graphs_give_the_eager_losses(compose_config, tmp_path, overrides) -> None:
    """aot_eager: dynamo's graphs and AOT autograd without code generation, which is where a
    stale graph would drop gradients (pytorch#139476)."""
    eager = losses_of(compose_config, tmp_path, "eager", *overrides)
    compiled = losses_of(compose_config, tmp_path, "compiled", *overrides, "compile=aot_eager")
    for key in LOSSES:
        assert len(compiled[key]) == len(eager[key]) == 4
        assert compiled[key] == pytest.approx(eager[key], rel=1e-4, abs=1e-5), key


@pytest.mark.parametrize(
    "overrides", [["model=dcgan"], ["model=sndcgan", "conditioning=projection"]]
)
def test_channels_last_memory_gives_the_same_losses(compose_config, tmp_path, overrides) -> None:
    eager = losses_of(compose_config, tmp_path, "eager", *overrides)
    nhwc = losses_of(compose_config, tmp_path, "nhwc", *overrides, "module.channels_last=true")
    for key in LOSSES:
        assert len(nhwc[key]) == 4
        assert nhwc[key] == pytest.approx(eager[key], rel=1e-4, abs=1e-5), key


def test_channels_last_trains_with_nhwc_convolution_weights(compose_config, tmp_path) -> None:
    run = tmp_path / "run"
    train(compose_config(*FAST, "module.channels_last=true", "model=sndcgan", output_dir=run))
    state = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    weights = [v for k, v in state.items() if k.endswith("weight") and v.dim() == 4]
    assert all(w.is_contiguous(memory_format=torch.channels_last) for w in weights)
    assert any(not w.is_contiguous() for w in weights)  # NHWC, not the default layout


@pytest.mark.slow
def test_inductor_compiled_default_run_gives_the_eager_losses(compose_config, tmp_path) -> None:
    torch._dynamo.reset()
    eager = losses_of(compose_config, tmp_path, "eager")
    compiled = losses_of(compose_config, tmp_path, "compiled", "compile=true")
    for key in LOSSES:
        assert compiled[key] == pytest.approx(eager[key], rel=1e-3, abs=1e-4), key
