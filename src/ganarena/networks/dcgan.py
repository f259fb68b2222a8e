"""DCGAN generator and discriminator (Radford et al. 2016), sized to the data's image shape."""

from __future__ import annotations

from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganarena.networks.conditioning import (
    ConditionedGenerator,
    LabelHead,
    ScoringDiscriminator,
    generator_norm,
)
from ganarena.networks.dcgan_layout import DCGANLayout, plan_layout
from ganarena.networks.init import initialize
from ganarena.networks.normalization import (
    apply_spectral_norm,
    check_normalization,
    conv_normalization,
)
from ganarena.options import require_positive_int


class DCGANGenerator(ConditionedGenerator):
    """z → (widths[-1], b, b) → k transposed-conv up-blocks → tanh image in [-1, 1].

    Conditioning: `concat` and `acgan` append the one-hot label to z; `projection` makes
    every batch norm conditional on the label.
    """

    def __init__(
        self,
        data_shape: tuple[int, ...],
        latent_dim: int = 64,
        width: int = 64,
        init: str = "dcgan",
        num_classes: int | None = None,
        conditioning: str = "none",
    ) -> None:
        super().__init__()
        require_positive_int("model.generator.latent_dim", latent_dim, 64)
        require_positive_int("model.generator.width", width, 64)
        layout = plan_layout(data_shape, width)
        self.data_shape = tuple(int(d) for d in data_shape)
        self.latent_dim = latent_dim
        self.set_conditioning(conditioning, num_classes)
        widths = tuple(reversed(layout.widths))  # coarsest first
        self.project = _projection(latent_dim + self.label_features, layout)
        self.norms = nn.ModuleList(generator_norm(conditioning, w, num_classes) for w in widths)
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(in_ch, out_ch, 4, 2, 1, bias=False)
            for in_ch, out_ch in pairwise(widths)
        )
        self.to_image = nn.ConvTranspose2d(widths[-1], layout.channels, 4, 2, 1)
        initialize(self, init, "model.generator.init")

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """Images of shape (N, *data_shape); `labels` (N,) are required when conditional."""
        h = F.relu(self.norms[0](self.project(self.latent_input(z, labels)), labels))
        for up, norm in zip(self.up, self.norms[1:], strict=True):
            h = F.relu(norm(up(h), labels))
        return torch.tanh(self.to_image(h))


class DCGANDiscriminator(ScoringDiscriminator):
    """Image → k strided-conv down-blocks → (widths[-1], b, b) → linear → one raw score."""

    def __init__(
        self,
        data_shape: tuple[int, ...],
        width: int = 64,
        normalization: str = "none",
        init: str = "dcgan",
        num_classes: int | None = None,
        conditioning: str = "none",
    ) -> None:
        super().__init__()
        require_positive_int("model.discriminator.width", width, 64)
        layout = plan_layout(data_shape, width)
        self.normalization = check_normalization(normalization)
        self.set_conditioning(conditioning, num_classes)
        self.features = _down_blocks(layout, normalization, self.label_channels)
        num_features = layout.widths[-1] * layout.base**2
        self.score = nn.Linear(num_features, 1)
        self.label_head = LabelHead(conditioning, num_features, num_classes)
        initialize(self, init, "model.discriminator.init")
        if normalization == "spectral":  # after init: it wraps the initialised weights
            apply_spectral_norm(self)


def _projection(in_features: int, layout: DCGANLayout) -> nn.Sequential:
    """The paper's first layer: a linear map of z reshaped to the coarsest feature map.

    Its batch norm and ReLU are applied in `forward`, where the norm can see the labels.
    """
    channels, base = layout.widths[-1], layout.base
    return nn.Sequential(
        nn.Linear(in_features, channels * base * base, bias=False),
        nn.Unflatten(1, (channels, base, base)),
    )


def _down_blocks(layout: DCGANLayout, normalization: str, label_channels: int) -> nn.Sequential:
    """Each block halves the resolution; the first is never normalised, as in the paper."""
    channel_pairs = pairwise((layout.channels + label_channels, *layout.widths))
    blocks: list[nn.Module] = []
    for index, (in_channels, out_channels) in enumerate(channel_pairs):
        norm = conv_normalization(normalization, out_channels) if index > 0 else []
        blocks += [nn.Conv2d(in_channels, out_channels, 4, 2, 1), *norm, nn.LeakyReLU(0.2)]
    return nn.Sequential(*blocks)
