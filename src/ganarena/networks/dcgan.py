"""DCGAN generator and discriminator (Radford et al. 2016), sized to the data's image shape."""

from __future__ import annotations

from itertools import pairwise

import torch
from torch import Tensor, nn

from ganarena.networks.dcgan_layout import DCGANLayout, plan_layout
from ganarena.networks.init import initialize
from ganarena.networks.normalization import (
    apply_spectral_norm,
    check_normalization,
    conv_normalization,
)
from ganarena.networks.options import require_positive


class DCGANGenerator(nn.Module):
    """z → (widths[-1], b, b) → k transposed-conv up-blocks → tanh image in [-1, 1]."""

    def __init__(
        self,
        data_shape: tuple[int, ...],
        latent_dim: int = 64,
        width: int = 64,
        init: str = "dcgan",
        num_classes: int | None = None,
    ) -> None:
        super().__init__()
        require_positive("model.generator.latent_dim", latent_dim, 64)
        require_positive("model.generator.width", width, 64)
        layout = plan_layout(data_shape, width)
        self.data_shape = tuple(int(d) for d in data_shape)
        self.latent_dim = latent_dim
        self.num_classes = num_classes  # conditioning will embed labels here; unused for now
        self.project = _projection(latent_dim, layout)
        self.upsample = _up_blocks(layout)
        initialize(self, init, "model.generator.init")

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """Images of shape (N, *data_shape); `labels` are accepted and ignored for now."""
        return self.upsample(self.project(z))


class DCGANDiscriminator(nn.Module):
    """Image → k strided-conv down-blocks → (widths[-1], b, b) → linear → one raw score."""

    def __init__(
        self,
        data_shape: tuple[int, ...],
        width: int = 64,
        normalization: str = "none",
        init: str = "dcgan",
        num_classes: int | None = None,
    ) -> None:
        super().__init__()
        require_positive("model.discriminator.width", width, 64)
        layout = plan_layout(data_shape, width)
        self.normalization = check_normalization(normalization)
        self.num_classes = num_classes  # conditioning will use labels here; unused for now
        self.features = _down_blocks(layout, normalization)
        self.score = nn.Linear(layout.widths[-1] * layout.base**2, 1)
        initialize(self, init, "model.discriminator.init")
        if normalization == "spectral":  # after init: it wraps the initialised weights
            apply_spectral_norm(self)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        """Raw scores (logits or critic values, never squashed) of shape (N,)."""
        return self.score(torch.flatten(self.features(x), 1)).squeeze(1)


def _projection(latent_dim: int, layout: DCGANLayout) -> nn.Sequential:
    """The paper's first layer: a linear map of z reshaped to the coarsest feature map."""
    channels, base = layout.widths[-1], layout.base
    return nn.Sequential(
        nn.Linear(latent_dim, channels * base * base, bias=False),
        nn.Unflatten(1, (channels, base, base)),
        nn.BatchNorm2d(channels),
        nn.ReLU(),
    )


def _up_blocks(layout: DCGANLayout) -> nn.Sequential:
    """Each block doubles the resolution; the last outputs the image channels through tanh."""
    blocks: list[nn.Module] = []
    for in_channels, out_channels in pairwise(reversed(layout.widths)):
        blocks += [
            nn.ConvTranspose2d(in_channels, out_channels, 4, 2, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        ]
    blocks += [nn.ConvTranspose2d(layout.widths[0], layout.channels, 4, 2, 1), nn.Tanh()]
    return nn.Sequential(*blocks)


def _down_blocks(layout: DCGANLayout, normalization: str) -> nn.Sequential:
    """Each block halves the resolution; the first is never normalised, as in the paper."""
    channel_pairs = pairwise((layout.channels, *layout.widths))
    blocks: list[nn.Module] = []
    for index, (in_channels, out_channels) in enumerate(channel_pairs):
        norm = conv_normalization(normalization, out_channels) if index > 0 else []
        blocks += [nn.Conv2d(in_channels, out_channels, 4, 2, 1), *norm, nn.LeakyReLU(0.2)]
    return nn.Sequential(*blocks)
