"""The fast path (`compile=...`, `module.channels_last=true`, `module.data_on_device=true`)
trains to the eager losses."""

from __future__ import annotations

import functools
import itertools

import lightning.pytorch as pl
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader, TensorDataset

from ganarena.data import DigitsDataModule, ImageFolderDataModule
from ganarena.errors import GanArenaError
from ganarena.gan_module import GANModule
from ganarena.losses import NonSaturating
from ganarena.networks import DCGANDiscriminator, DCGANGenerator
from ganarena.networks.compilation import compiled
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


@pytest.mark.parametrize("overrides", [[], ["loss=wgan"]], ids=["default", "five_critic_steps"])
def test_data_on_the_device_gives_the_same_losses(compose_config, tmp_path, overrides) -> None:
    host = losses_of(compose_config, tmp_path, "host", *overrides)
    device = losses_of(compose_config, tmp_path, "device", *overrides, "module.data_on_device=true")
    assert len(device["train/loss_d"]) == 4
    assert device == host  # the same batches in the same order: the same values, exactly


def batches(loader, count: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    taken = list(itertools.islice(loader, count))
    assert len(taken) == count, f"the loader gave {len(taken)} batches, not {count}"
    return taken


def loaders():
    """A host and a device-resident loader over the digits, batch 64, at an epoch's start."""
    made = []
    for serve_from in (None, torch.device("cpu")):
        datamodule = DigitsDataModule(batch_size=64)
        datamodule.setup("fit")
        datamodule.serve_from = serve_from
        datamodule._position_in_epoch = lambda: (0, 0)  # no trainer here
        made.append(datamodule.train_dataloader())
    return made


def test_the_device_resident_loader_serves_the_host_loaders_batches() -> None:
    host, device = loaders()
    assert len(device) == len(host) == 1797 // 64
    epoch = zip(batches(host, 28), batches(device, 28), strict=True)  # one whole epoch
    for (real, labels), (real_d, labels_d) in epoch:
        assert torch.equal(real, real_d) and torch.equal(labels, labels_d)
    assert real_d.dtype == torch.float32 and real_d.shape == (64, 1, 8, 8)


def test_the_device_resident_loader_resumes_mid_epoch_like_the_host_loader() -> None:
    host, device = loaders()
    for loader in (host, device):
        loader.load_state_dict({"epoch": 0, "steps": 11})
    (real, _), (real_d, _) = batches(host, 1)[0], batches(device, 1)[0]
    assert torch.equal(real, real_d)
    fresh, _ = loaders()
    assert torch.equal(batches(fresh, 12)[11][0], real)  # the 12th batch of the epoch


def test_data_on_device_with_worker_processes_says_to_drop_them() -> None:
    datamodule = DigitsDataModule(batch_size=64, num_workers=1)
    datamodule.setup("fit")
    datamodule.serve_from = torch.device("cpu")
    with pytest.raises(GanArenaError, match=r"set data.num_workers=0 \(it is 1\)"):
        datamodule.train_dataloader()


def test_data_on_device_with_files_says_to_turn_it_off(tmp_path) -> None:
    for index in range(4):
        Image.new("L", (8, 8), color=index * 60).save(tmp_path / f"{index}.png")
    datamodule = ImageFolderDataModule(
        path=str(tmp_path), image_size=8, channels=1, batch_size=2, num_workers=0
    )
    datamodule.setup("fit")
    datamodule.serve_from = torch.device("cpu")
    with pytest.raises(GanArenaError, match=r"is read from files .*module.data_on_device=false"):
        datamodule.train_dataloader()


class PlainDataModule(pl.LightningDataModule):
    """A data module that is not a GANDataModule: it cannot move its data."""

    def train_dataloader(self) -> DataLoader:
        images = torch.zeros(8, 1, 8, 8)
        return DataLoader(TensorDataset(images, torch.zeros(8, dtype=torch.int64)), batch_size=4)


def test_data_on_device_without_a_gan_data_module_says_what_it_needs() -> None:
    adam = functools.partial(torch.optim.Adam, lr=2e-4)
    shape = (1, 8, 8)
    module = GANModule(
        DCGANGenerator(shape), DCGANDiscriminator(shape), NonSaturating(), adam, adam,
        data_on_device=True,
    )  # fmt: skip
    trainer = pl.Trainer(
        max_steps=2, logger=False, enable_checkpointing=False, enable_progress_bar=False
    )
    needs = r"data_on_device=true needs a ganarena\.data\.GANDataModule"
    with pytest.raises(GanArenaError, match=needs):
        trainer.fit(module, datamodule=PlainDataModule())


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        (True, {"mode": None}),
        ("reduce-overhead", {"mode": "reduce-overhead"}),  # inductor with CUDA graphs
        ("max-autotune", {"mode": "max-autotune"}),
        ("aot_eager", {"backend": "aot_eager"}),
    ],
)
def test_compile_names_an_inductor_mode_or_a_backend(monkeypatch, setting, expected) -> None:
    calls = []
    monkeypatch.setattr(torch, "compile", lambda network, **options: calls.append(options))
    compiled(DCGANGenerator((1, 8, 8)), setting)
    assert calls == [expected]
