"""Behaviour of the generators and discriminators that every loss and training run relies on."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from hydra.utils import instantiate
from torch import nn

from ganarena.errors import GanArenaError
from ganarena.networks import (
    NORMALIZATIONS,
    DCGANDiscriminator,
    DCGANGenerator,
    MLPDiscriminator,
    MLPGenerator,
)

BATCH = 4


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def _sample(generator: nn.Module, batch: int = BATCH) -> torch.Tensor:
    return generator(torch.randn(batch, generator.latent_dim))


def _weighted_layers(network: nn.Module) -> list[nn.Module]:
    return [m for m in network.modules() if isinstance(m, nn.Conv2d | nn.Linear)]


def _raises_one_line(build: Callable[..., nn.Module], *args: object, **kwargs: object) -> str:
    with pytest.raises(GanArenaError) as caught:
        build(*args, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message


IMAGE_SHAPES = [(1, 8, 8), (3, 8, 8), (1, 16, 16), (3, 16, 16), (1, 28, 28), (3, 32, 32)]
OTHER_IMAGE_SHAPES = [(1, 64, 64), (3, 12, 12), (1, 20, 20), (3, 128, 128)]  # 128 once: slow


@pytest.mark.parametrize("data_shape", [*IMAGE_SHAPES, *OTHER_IMAGE_SHAPES])
def test_dcgan_makes_images_of_the_data_shape_and_scores_them(data_shape: tuple[int, ...]) -> None:
    generator, discriminator = DCGANGenerator(data_shape), DCGANDiscriminator(data_shape)
    images = _sample(generator)
    assert images.shape == (BATCH, *data_shape)
    assert images.min() >= -1 and images.max() <= 1
    assert discriminator(images).shape == (BATCH,)


def test_dcgan_depth_follows_image_size_and_width_is_capped() -> None:
    def convs(size: int) -> list[nn.Conv2d]:
        network = DCGANDiscriminator((1, size, size), width=8)
        return [m for m in network.modules() if isinstance(m, nn.Conv2d)]

    assert [len(convs(size)) for size in (8, 16, 28, 32, 64, 128)] == [1, 2, 2, 3, 4, 5]
    assert [conv.out_channels for conv in convs(128)] == [8, 16, 32, 64, 64]


@pytest.mark.parametrize("normalization", NORMALIZATIONS)
@pytest.mark.parametrize(
    ("discriminator_class", "data_shape"),
    [(DCGANDiscriminator, (3, 16, 16)), (MLPDiscriminator, (2,)), (MLPDiscriminator, (1, 8, 8))],
)
def test_discriminator_gives_one_raw_score_per_sample(
    discriminator_class: type[nn.Module], data_shape: tuple[int, ...], normalization: str
) -> None:
    discriminator = discriminator_class(data_shape, normalization=normalization)
    scores = discriminator(torch.randn(BATCH, *data_shape) * 10)
    assert discriminator.normalization == normalization
    assert scores.shape == (BATCH,)
    assert not any(isinstance(m, nn.Sigmoid) for m in discriminator.modules())


@pytest.mark.parametrize(
    ("discriminator_class", "data_shape"),
    [(DCGANDiscriminator, (3, 32, 32)), (MLPDiscriminator, (2,))],
)
def test_spectral_norm_constrains_every_weight_to_norm_one(
    discriminator_class: type[nn.Module], data_shape: tuple[int, ...]
) -> None:
    discriminator = discriminator_class(data_shape, normalization="spectral").train()
    for _ in range(10):  # each train-mode forward refines the power-iteration estimate
        discriminator(torch.randn(BATCH, *data_shape))
    layers = _weighted_layers(discriminator)
    assert len(layers) >= 3
    for layer in layers:
        matrix = layer.weight.detach().flatten(1)  # conv kernels as (out, in*k*k), like Miyato
        assert torch.linalg.matrix_norm(matrix, ord=2).item() == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("normalization", NORMALIZATIONS)
def test_norm_layers_exist_only_for_their_option(normalization: str) -> None:
    networks = [DCGANDiscriminator((1, 16, 16), normalization=normalization)]
    networks.append(MLPDiscriminator((2,), normalization=normalization))
    for network in networks:
        types = {type(m) for m in network.modules()}
        has_batch = bool(types & {nn.BatchNorm1d, nn.BatchNorm2d})
        has_layer = bool(types & {nn.GroupNorm, nn.LayerNorm})
        assert has_batch == (normalization == "batch")
        assert has_layer == (normalization == "layer")


def test_discriminator_first_layer_is_never_normalised() -> None:
    features = DCGANDiscriminator((1, 16, 16), normalization="batch").features
    assert isinstance(features[0], nn.Conv2d) and isinstance(features[1], nn.LeakyReLU)


@pytest.mark.parametrize(
    ("data_shape", "expected"),
    [
        ((1, 30, 30), "DCGAN cannot make 30x30 images (size must be b·2^k with b in 4..7: "),
        ((1, 9, 9), "set data.image_size=10"),
        ((3, 4, 4), "set data.image_size=8"),
        ((1, 28, 32), "DCGAN needs square images, but the data gives 28x32: set data.image_size"),
        (
            (2,),
            "DCGAN networks need images, but the data gives points of shape (2,): use model=points",
        ),
    ],
)
def test_dcgan_rejects_shapes_it_cannot_make(data_shape: tuple[int, ...], expected: str) -> None:
    for network_class in (DCGANGenerator, DCGANDiscriminator):
        assert expected in _raises_one_line(network_class, data_shape)


def test_size_error_suggests_a_supported_size() -> None:
    message = _raises_one_line(DCGANGenerator, (1, 30, 30))
    assert message.endswith("set data.image_size=32")
    DCGANGenerator((1, 32, 32))


@pytest.mark.parametrize("discriminator_class", [DCGANDiscriminator, MLPDiscriminator])
def test_unknown_normalization_lists_the_options(discriminator_class: type[nn.Module]) -> None:
    data_shape = (1, 8, 8)
    message = _raises_one_line(discriminator_class, data_shape, normalization="instance")
    assert "'instance'" in message
    assert "set model.discriminator.normalization to one of none, batch, layer, spectral" in message


def test_bad_options_name_their_config_key() -> None:
    message = _raises_one_line(DCGANGenerator, (1, 8, 8), init="xavier")
    assert "set model.generator.init to one of dcgan, default" in message
    message = _raises_one_line(MLPDiscriminator, (2,), depth=0)
    assert (
        message == "model.discriminator.depth must be a positive integer, got 0: "
        "set model.discriminator.depth=3"
    )


def test_mlp_makes_unbounded_points() -> None:
    generator, discriminator = MLPGenerator((2,)), MLPDiscriminator((2,))
    points = _sample(generator, batch=8)
    assert points.shape == (8, 2)
    assert not any(isinstance(m, nn.Tanh) for m in generator.modules())
    assert discriminator(points).shape == (8,)


def test_mlp_makes_bounded_tiny_images() -> None:
    generator = MLPGenerator((1, 8, 8))
    images = _sample(generator)
    assert images.shape == (BATCH, 1, 8, 8)
    assert images.min() >= -1 and images.max() <= 1
    assert MLPDiscriminator((1, 8, 8))(images).shape == (BATCH,)


@pytest.mark.parametrize(
    ("generator_class", "discriminator_class", "data_shape", "normalization"),
    [
        (DCGANGenerator, DCGANDiscriminator, (1, 16, 16), "spectral"),
        (MLPGenerator, MLPDiscriminator, (2,), "layer"),
    ],
)
def test_gradient_flows_from_the_score_to_every_generator_parameter(
    generator_class: type[nn.Module],
    discriminator_class: type[nn.Module],
    data_shape: tuple[int, ...],
    normalization: str,
) -> None:
    generator = generator_class(data_shape)
    discriminator = discriminator_class(data_shape, normalization=normalization)
    discriminator(_sample(generator)).mean().backward()
    for name, parameter in generator.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_unconditional_networks_ignore_labels() -> None:
    generator = DCGANGenerator((1, 8, 8), num_classes=10).eval()
    discriminator = DCGANDiscriminator((1, 8, 8), num_classes=10).eval()
    z, labels = torch.randn(BATCH, generator.latent_dim), torch.arange(BATCH)
    images = generator(z, labels)
    assert torch.equal(images, generator(z))
    assert torch.equal(discriminator(images, labels), discriminator(images))
    assert generator.num_classes is None and discriminator.num_classes is None


def test_dcgan_init_draws_weights_with_std_002() -> None:
    for network in (DCGANGenerator((3, 32, 32)), DCGANDiscriminator((3, 32, 32))):
        for module in network.modules():
            if isinstance(module, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
                assert module.weight.std().item() == pytest.approx(0.02, rel=0.1)
            if isinstance(module, nn.BatchNorm2d):
                assert module.weight.mean().item() == pytest.approx(1.0, abs=0.01)
                assert module.weight.std().item() == pytest.approx(0.02, rel=0.3)


def test_default_init_keeps_pytorch_weights() -> None:
    generator = DCGANGenerator((1, 16, 16), init="default")
    batch_norm = next(m for m in generator.modules() if isinstance(m, nn.BatchNorm2d))
    assert torch.equal(batch_norm.weight, torch.ones_like(batch_norm.weight))
    first_conv = DCGANDiscriminator((1, 16, 16), init="default").features[0]
    assert first_conv.weight.std().item() > 0.05  # kaiming-uniform for fan-in 16


@pytest.mark.parametrize(
    ("config_name", "data_shape"),
    [("dcgan", (1, 8, 8)), ("dcgan", (3, 32, 32)), ("mlp", (2,)), ("mlp", (1, 8, 8))],
)
def test_model_configs_instantiate(
    compose_config, config_name: str, data_shape: tuple[int, ...]
) -> None:
    config = compose_config(f"model={config_name}").model
    assert set(config) == {"generator", "discriminator", "ema_decay"}
    assert config.ema_decay is None  # images sample the raw generator unless asked
    generator = instantiate(config.generator, data_shape=data_shape)
    discriminator = instantiate(config.discriminator, data_shape=data_shape)
    assert discriminator.normalization == "none"
    assert discriminator(_sample(generator)).shape == (BATCH,)


# --- the architectures of the published comparisons --------------------------------------------

from ganarena.networks import (  # noqa: E402
    InfoGANDiscriminator,
    InfoGANGenerator,
    ResNetDiscriminator,
    ResNetGenerator,
    StandardCNNDiscriminator,
    StandardCNNGenerator,
)

ARCHITECTURES = {
    "sndcgan": (
        StandardCNNGenerator,
        StandardCNNDiscriminator,
        [(1, 8, 8), (3, 16, 16), (1, 28, 28), (3, 32, 32)],
    ),
    "resnet": (
        ResNetGenerator,
        ResNetDiscriminator,
        [(1, 8, 8), (3, 16, 16), (1, 28, 28), (3, 32, 32)],
    ),
    "infogan": (
        InfoGANGenerator,
        InfoGANDiscriminator,
        [(1, 8, 8), (3, 16, 16), (1, 28, 28), (3, 32, 32)],
    ),
    "compact": (InfoGANGenerator, MLPDiscriminator, [(1, 8, 8), (1, 12, 12), (3, 16, 16)]),
}
CASES = [
    (name, shape, method)
    for name, (_, _, shapes) in ARCHITECTURES.items()
    for shape in shapes
    for method in ("none", "concat", "projection", "acgan")
]


@pytest.mark.parametrize(("name", "data_shape", "method"), CASES)
def test_every_architecture_builds_for_every_size_channels_and_conditioning(
    name: str, data_shape: tuple[int, ...], method: str
) -> None:
    generator_class, discriminator_class, _ = ARCHITECTURES[name]
    classes = None if method == "none" else 10
    generator = generator_class(data_shape, num_classes=classes, conditioning=method)
    discriminator = discriminator_class(data_shape, num_classes=classes, conditioning=method)
    labels = None if method == "none" else torch.randint(10, (BATCH,))
    images = generator(torch.randn(BATCH, generator.latent_dim), labels)
    assert images.shape == (BATCH, *data_shape) and images.abs().max() <= 1
    assert discriminator(images, labels).shape == (BATCH,)
    if method == "acgan":
        assert discriminator.score_and_classify(images, labels)[1].shape == (BATCH, 10)


def test_the_published_layers_at_32x32() -> None:
    """Miyato et al. 2018, Table 3 and Appendix B: the widths the configs cite."""
    cnn = StandardCNNDiscriminator((3, 32, 32), normalization="none")
    convs = [m for m in cnn.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size[0], c.stride[0]) for c in convs] == [
        (64, 3, 1), (64, 4, 2), (128, 3, 1), (128, 4, 2), (256, 3, 1), (256, 4, 2), (512, 3, 1),
    ]  # fmt: skip
    assert all(isinstance(a, nn.LeakyReLU) and a.negative_slope == 0.1 for a in cnn.features
               if isinstance(a, nn.LeakyReLU))  # fmt: skip
    generator = StandardCNNGenerator((3, 32, 32))
    assert [up.out_channels for up in generator.up] == [256, 128, 64]
    assert generator.project.out_features == 4 * 4 * 512
    resnet_g, resnet_d = ResNetGenerator((3, 32, 32)), ResNetDiscriminator((3, 32, 32))
    assert len(resnet_g.blocks) == 3 and resnet_g.project.out_features == 4 * 4 * 256
    assert [b.down for b in resnet_d.blocks] == [True, True, False, False]
    assert resnet_d.score.in_features == 128
    infogan = InfoGANDiscriminator((1, 28, 28))
    linear = [m for m in infogan.modules() if isinstance(m, nn.Linear)]
    assert [m.out_features for m in linear] == [1024, 1]


@pytest.mark.parametrize("discriminator_class", [StandardCNNDiscriminator, ResNetDiscriminator])
def test_spectral_norm_is_really_applied_by_default(discriminator_class: type[nn.Module]) -> None:
    discriminator = discriminator_class((3, 16, 16))
    for _ in range(20):  # power iterations run in training-mode forward passes
        discriminator(torch.randn(2, 3, 16, 16))
    discriminator.eval()
    for layer in _weighted_layers(discriminator):
        matrix = layer.weight.detach().flatten(1)  # the normalised weight
        assert torch.linalg.matrix_norm(matrix, ord=2) == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: StandardCNNGenerator((1, 30, 30)), "set data.image_size=32"),
        (lambda: ResNetDiscriminator((2,)), "use model=points"),
        (lambda: InfoGANGenerator((1, 30, 30)), "multiple of 4"),
        (lambda: ResNetDiscriminator((3, 32, 32), normalization="batch"), "no batch norm option"),
    ],
)
def test_shapes_and_options_an_architecture_cannot_take_name_the_fix(build, message) -> None:
    with pytest.raises(GanArenaError, match=message) as error:
        build()
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
@pytest.mark.parametrize("conditioning", ["none", "projection"])
def test_every_architecture_trains_on_digits(
    compose_config, tmp_path, name: str, conditioning: str
) -> None:
    from ganarena.training import train

    from .helpers import FAST, column, read_metrics

    run = tmp_path / "run"
    overrides = [f"model={name}", f"conditioning={conditioning}"]
    cfg = compose_config(*FAST, *overrides, output_dir=run)
    generator_class, discriminator_class, _ = ARCHITECTURES[name]
    assert cfg.model.generator._target_.endswith(generator_class.__name__)
    assert cfg.model.discriminator._target_.endswith(discriminator_class.__name__)
    train(cfg)
    rows = read_metrics(run)
    losses = column(rows, "train/loss_d") + column(rows, "train/loss_g")
    assert len(losses) == 8 and all(torch.isfinite(torch.tensor(losses)))
    assert column(rows, "val/fid")[0] > 0


def test_infogan_widths_are_options_and_compact_uses_the_narrow_ones(compose_config) -> None:
    from hydra.utils import instantiate

    cfg = compose_config("model=compact")
    generator = instantiate(cfg.model.generator, data_shape=(1, 8, 8))
    discriminator = instantiate(cfg.model.discriminator, data_shape=(1, 8, 8))
    assert (generator.fc1.out_features, generator.up1.in_channels) == (256, 64)
    assert generator.up1.out_channels == 32
    assert [m.out_features for m in discriminator.modules() if isinstance(m, nn.Linear)] == [
        256, 256, 1,
    ]  # fmt: skip
    narrow = InfoGANDiscriminator((1, 8, 8), hidden=128, width=16)
    assert [m.out_channels for m in narrow.modules() if isinstance(m, nn.Conv2d)] == [16, 32]
    with pytest.raises(GanArenaError, match=r"model\.generator\.hidden"):
        InfoGANGenerator((1, 8, 8), hidden=0)
