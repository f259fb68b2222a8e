"""The MNIST and Fashion-MNIST networks of Lucic et al. 2018 (their Table 7: InfoGAN's, Chen
et al. 2016), for images whose size is a multiple of 4 (28x28 as published).

- G: z (64 in Lucic et al.) → FC 1024, BN, ReLU → FC 128 x s/4 x s/4, BN, ReLU → 4x4 stride-2
  transposed convolution to 64, BN, ReLU → 4x4 stride-2 transposed convolution to the image;
  tanh (images here live in [-1, 1]; the paper's sigmoid maps to [0, 1]).
- D: 4x4 stride-2 convolution to 64, LeakyReLU(0.2) → 4x4 stride-2 convolution to 128, BN,
  LeakyReLU → FC 1024, BN, LeakyReLU → FC 1. The batch norms are the `normalization` option
  (batch by default, as published; spectral, layer or none instead).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganarena.errors import GanArenaError
from ganarena.networks.conditioning import (
    ConditionedGenerator,
    LabelHead,
    ScoringDiscriminator,
    generator_norm,
)
from ganarena.networks.dcgan_layout import image_dims
from ganarena.networks.init import initialize
from ganarena.networks.normalization import (
    apply_spectral_norm,
    check_normalization,
    conv_normalization,
    linear_normalization,
)
from ganarena.options import require_positive_int

NAME = "the InfoGAN networks (model=infogan)"
HIDDEN = 1024  # Lucic et al. 2018, Table 7: the fully connected layer
WIDTH = 64  # Lucic et al. 2018, Table 7: the first conv of D, the last transposed conv of G


def quarter_size(data_shape: tuple[int, ...]) -> tuple[int, int]:
    """(channels, size / 4) of square images whose size is a multiple of 4, at least 8."""
    channels, height, width = image_dims(data_shape, NAME)
    if height != width or height % 4 or height < 8:
        fix = max(8, 4 * round(max(height, width) / 4))
        raise GanArenaError(
            f"{NAME} makes square images whose size is a multiple of 4 (28 as published), not "
            f"{height}x{width}: set data.image_size={fix}"
        )
    return channels, height // 4


class InfoGANGenerator(ConditionedGenerator):
    def __init__(
        self,
        data_shape: tuple[int, ...],
        latent_dim: int = 64,
        hidden: int = HIDDEN,
        width: int = WIDTH,
        init: str = "dcgan",
        num_classes: int | None = None,
        conditioning: str = "none",
    ) -> None:
        super().__init__()
        require_positive_int("model.generator.latent_dim", latent_dim, 64)
        require_positive_int("model.generator.hidden", hidden, HIDDEN)
        require_positive_int("model.generator.width", width, WIDTH)
        channels, quarter = quarter_size(data_shape)
        self.data_shape = tuple(int(d) for d in data_shape)
        self.latent_dim, self.quarter = latent_dim, quarter
        self.set_conditioning(conditioning, num_classes)
        self.width = width
        self.fc1 = nn.Linear(latent_dim + self.label_features, hidden)
        self.norm1 = generator_norm(conditioning, hidden, num_classes, spatial=False)
        self.fc2 = nn.Linear(hidden, 2 * width * quarter * quarter)
        self.norm2 = generator_norm(conditioning, 2 * width * quarter * quarter, num_classes, False)
        self.up1 = nn.ConvTranspose2d(2 * width, width, 4, 2, 1)
        self.norm3 = generator_norm(conditioning, width, num_classes)
        self.up2 = nn.ConvTranspose2d(width, channels, 4, 2, 1)
        initialize(self, init, "model.generator.init")

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        h = F.relu(self.norm1(self.fc1(self.latent_input(z, labels)), labels))
        h = F.relu(self.norm2(self.fc2(h), labels))
        h = h.view(-1, 2 * self.width, self.quarter, self.quarter)
        h = F.relu(self.norm3(self.up1(h), labels))
        return torch.tanh(self.up2(h))


class InfoGANDiscriminator(ScoringDiscriminator):
    def __init__(
        self,
        data_shape: tuple[int, ...],
        normalization: str = "batch",
        hidden: int = HIDDEN,
        width: int = WIDTH,
        init: str = "dcgan",
        num_classes: int | None = None,
        conditioning: str = "none",
    ) -> None:
        super().__init__()
        require_positive_int("model.discriminator.hidden", hidden, HIDDEN)
        require_positive_int("model.discriminator.width", width, WIDTH)
        channels, quarter = quarter_size(data_shape)
        self.normalization = check_normalization(normalization)
        self.set_conditioning(conditioning, num_classes)
        self.features = nn.Sequential(
            nn.Conv2d(channels + self.label_channels, width, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, 2, 1),
            *conv_normalization(normalization, 2 * width),
            nn.LeakyReLU(0.2),
            nn.Flatten(1),
            nn.Linear(2 * width * quarter * quarter, hidden),
            *linear_normalization(normalization, hidden),
            nn.LeakyReLU(0.2),
        )
        self.score = nn.Linear(hidden, 1)
        self.label_head = LabelHead(conditioning, hidden, num_classes)
        initialize(self, init, "model.discriminator.init")
        if normalization == "spectral":
            apply_spectral_norm(self)
