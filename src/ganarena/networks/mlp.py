"""Fully connected generator and discriminator: for 2-D point data and tiny images.

Both flatten `data_shape`, so the same networks serve points (2,) and e.g. 8x8 digits.
"""

from __future__ import annotations

import math
from itertools import pairwise

import torch
from torch import Tensor, nn

from ganarena.networks.normalization import (
    apply_spectral_norm,
    check_normalization,
    linear_normalization,
)
from ganarena.networks.options import require_positive


class MLPGenerator(nn.Module):
    """z → `depth` ReLU layers → linear output; tanh only for images, as points are unbounded."""

    def __init__(
        self,
        data_shape: tuple[int, ...],
        latent_dim: int = 16,
        hidden_dim: int = 256,
        depth: int = 3,
        num_classes: int | None = None,
    ) -> None:
        super().__init__()
        require_positive("model.generator.latent_dim", latent_dim, 16)
        require_positive("model.generator.hidden_dim", hidden_dim, 256)
        require_positive("model.generator.depth", depth, 3)
        self.data_shape = tuple(int(d) for d in data_shape)
        self.latent_dim = latent_dim
        self.num_classes = num_classes  # conditioning will embed labels here; unused for now
        widths = [latent_dim] + [hidden_dim] * depth
        layers: list[nn.Module] = []
        for in_features, out_features in pairwise(widths):
            layers += [nn.Linear(in_features, out_features), nn.ReLU()]
        layers.append(nn.Linear(hidden_dim, math.prod(self.data_shape)))
        if len(self.data_shape) == 3:  # images live in [-1, 1]
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """Samples of shape (N, *data_shape); `labels` are accepted and ignored for now."""
        return self.net(z).view(-1, *self.data_shape)


class MLPDiscriminator(nn.Module):
    """Flattened sample → `depth` LeakyReLU(0.2) layers → one raw score."""

    def __init__(
        self,
        data_shape: tuple[int, ...],
        hidden_dim: int = 256,
        depth: int = 3,
        normalization: str = "none",
        num_classes: int | None = None,
    ) -> None:
        super().__init__()
        require_positive("model.discriminator.hidden_dim", hidden_dim, 256)
        require_positive("model.discriminator.depth", depth, 3)
        self.normalization = check_normalization(normalization)
        self.num_classes = num_classes  # conditioning will use labels here; unused for now
        widths = [math.prod(int(d) for d in data_shape)] + [hidden_dim] * depth
        layers: list[nn.Module] = []
        for index, (in_features, out_features) in enumerate(pairwise(widths)):
            # No norm after the first layer, as in DCGAN's discriminator (it destabilised training).
            norm = linear_normalization(normalization, out_features) if index > 0 else []
            layers += [nn.Linear(in_features, out_features), *norm, nn.LeakyReLU(0.2)]
        layers.append(nn.Linear(hidden_dim, 1))
        self.net = nn.Sequential(*layers)
        if normalization == "spectral":
            apply_spectral_norm(self)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        """Raw scores (logits or critic values, never squashed) of shape (N,)."""
        return self.net(torch.flatten(x, 1)).squeeze(1)
