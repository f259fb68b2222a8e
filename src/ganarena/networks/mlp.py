"""Fully connected generator and discriminator: for 2-D point data and tiny images.

Both flatten `data_shape`, so the same networks serve points (2,) and e.g. 8x8 digits.
"""

from __future__ import annotations

import math
from itertools import pairwise

import torch
from torch import Tensor, nn

from ganarena.networks.conditioning import (
    ConditionedGenerator,
    LabelHead,
    ScoringDiscriminator,
    generator_norm,
)
from ganarena.networks.normalization import (
    apply_spectral_norm,
    check_normalization,
    linear_normalization,
)
from ganarena.options import require_positive_int


class MLPGenerator(ConditionedGenerator):
    """z → `depth` ReLU layers → linear output; tanh only for images, as points are unbounded.

    Conditioning: `concat` and `acgan` append the one-hot label to z; `projection` puts a
    conditional batch norm after each hidden layer.
    """

    def __init__(
        self,
        data_shape: tuple[int, ...],
        latent_dim: int = 16,
        hidden_dim: int = 256,
        depth: int = 3,
        num_classes: int | None = None,
        conditioning: str = "none",
    ) -> None:
        super().__init__()
        require_positive_int("model.generator.latent_dim", latent_dim, 16)
        require_positive_int("model.generator.hidden_dim", hidden_dim, 256)
        require_positive_int("model.generator.depth", depth, 3)
        self.data_shape = tuple(int(d) for d in data_shape)
        self.latent_dim = latent_dim
        self.set_conditioning(conditioning, num_classes)
        widths = [latent_dim + self.label_features] + [hidden_dim] * depth
        self.hidden = nn.ModuleList(nn.Linear(i, o) for i, o in pairwise(widths))
        self.norms = nn.ModuleList(
            generator_norm(conditioning, hidden_dim, num_classes, spatial=False)
            if conditioning == "projection"
            else nn.Identity()
            for _ in range(depth)
        )
        self.output = nn.Linear(hidden_dim, math.prod(self.data_shape))
        self.squash = len(self.data_shape) == 3  # images live in [-1, 1]

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """Samples of shape (N, *data_shape); `labels` (N,) are required when conditional."""
        h = self.latent_input(z, labels)
        for linear, norm in zip(self.hidden, self.norms, strict=True):
            h = linear(h)
            h = torch.relu(norm(h, labels) if self.conditioning == "projection" else h)
        out = self.output(h)
        return (torch.tanh(out) if self.squash else out).view(-1, *self.data_shape)


class MLPDiscriminator(ScoringDiscriminator):
    """Flattened sample → `depth` LeakyReLU(0.2) layers → one raw score."""

    def __init__(
        self,
        data_shape: tuple[int, ...],
        hidden_dim: int = 256,
        depth: int = 3,
        normalization: str = "none",
        num_classes: int | None = None,
        conditioning: str = "none",
    ) -> None:
        super().__init__()
        require_positive_int("model.discriminator.hidden_dim", hidden_dim, 256)
        require_positive_int("model.discriminator.depth", depth, 3)
        self.normalization = check_normalization(normalization)
        self.set_conditioning(conditioning, num_classes)
        in_features = math.prod(int(d) for d in data_shape) + self.label_channels
        widths = [in_features] + [hidden_dim] * depth
        layers: list[nn.Module] = []
        for index, (in_features, out_features) in enumerate(pairwise(widths)):
            # No norm after the first layer, as in DCGAN's discriminator (it destabilised training).
            norm = linear_normalization(normalization, out_features) if index > 0 else []
            layers += [nn.Linear(in_features, out_features), *norm, nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*layers)
        self.score = nn.Linear(hidden_dim, 1)
        self.label_head = LabelHead(conditioning, hidden_dim, num_classes)
        if normalization == "spectral":
            apply_spectral_norm(self)

    def score_and_features(self, x: Tensor, labels: Tensor | None) -> tuple[Tensor, Tensor]:
        features = self.net(self.labelled_input(torch.flatten(x, 1), labels))
        return self.score_from(features, self.score, labels), features
