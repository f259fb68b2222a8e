"""The SNGAN ResNet of Miyato et al. 2018 (Appendix B, the CIFAR-10 networks).

For an image of size b·2^k (b in 4..7), with the published widths as defaults:
- G: z (128) → linear to b x b x 256 → k residual up-blocks at 256 channels (batch norm,
  ReLU, nearest-neighbour x2, 3x3 convolutions; a 1x1 convolution on the upsampled shortcut)
  → batch norm, ReLU, 3x3 convolution to the image, tanh. At 32x32, k = 3 as published.
- D: an "optimised" first block (3x3 convolution, ReLU, 3x3 convolution, 2x2 average pool;
  shortcut: pool then 1x1 convolution) at 128 channels, then k - 2 down-sampling blocks (none
  below 32x32) and two blocks at the same size, ReLU, global SUM pooling, a linear score;
  spectral normalisation of every layer. At 32x32 these are the published four blocks, the
  first two down-sampling (32 → 16 → 8).
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
from ganarena.networks.dcgan_layout import image_grid
from ganarena.networks.init import initialize
from ganarena.networks.normalization import apply_spectral_norm, check_normalization
from ganarena.options import require_positive_int

NAME = "the SNGAN ResNet (model=resnet)"


class UpBlock(nn.Module):
    """BN, ReLU, x2, conv3x3, BN, ReLU, conv3x3, plus the upsampled 1x1-convolved input."""

    def __init__(self, channels: int, conditioning: str, num_classes: int | None) -> None:
        super().__init__()
        self.norm1 = generator_norm(conditioning, channels, num_classes)
        self.conv1 = nn.Conv2d(channels, channels, 3, 1, 1)
        self.norm2 = generator_norm(conditioning, channels, num_classes)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1)
        self.shortcut = nn.Conv2d(channels, channels, 1)

    def forward(self, x: Tensor, labels: Tensor | None) -> Tensor:
        h = F.interpolate(F.relu(self.norm1(x, labels)), scale_factor=2.0, mode="nearest")
        h = self.conv2(F.relu(self.norm2(self.conv1(h), labels)))
        return h + self.shortcut(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class DownBlock(nn.Module):
    """ReLU, conv3x3, ReLU, conv3x3 (then 2x2 average pool when `down`), plus a shortcut (a
    1x1 convolution where the channels change or the block down-samples)."""

    def __init__(self, in_channels: int, channels: int, down: bool, first: bool = False):
        super().__init__()
        self.first, self.down = first, down
        self.conv1 = nn.Conv2d(in_channels, channels, 3, 1, 1)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1)
        changes = in_channels != channels or down
        self.shortcut = nn.Conv2d(in_channels, channels, 1) if changes else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        h = x if self.first else F.relu(x)  # the optimised first block starts with a conv
        h = self.conv2(F.relu(self.conv1(h)))
        if self.down:
            h = F.avg_pool2d(h, 2)
        if self.first:  # pool first, then project: the published optimised block
            return h + self.shortcut(F.avg_pool2d(x, 2))
        shortcut = self.shortcut(x)
        return h + (F.avg_pool2d(shortcut, 2) if self.down else shortcut)


class ResNetGenerator(ConditionedGenerator):
    def __init__(
        self,
        data_shape: tuple[int, ...],
        latent_dim: int = 128,
        width: int = 256,
        init: str = "default",
        num_classes: int | None = None,
        conditioning: str = "none",
    ) -> None:
        super().__init__()
        require_positive_int("model.generator.latent_dim", latent_dim, 128)
        require_positive_int("model.generator.width", width, 256)
        channels, base, stages = image_grid(data_shape, NAME)
        self.data_shape = tuple(int(d) for d in data_shape)
        self.latent_dim, self.width, self.base = latent_dim, width, base
        self.set_conditioning(conditioning, num_classes)
        self.project = nn.Linear(latent_dim + self.label_features, width * base * base)
        self.blocks = nn.ModuleList(
            UpBlock(width, conditioning, num_classes) for _ in range(stages)
        )
        self.norm = generator_norm(conditioning, width, num_classes)
        self.to_image = nn.Conv2d(width, channels, 3, 1, 1)
        initialize(self, init, "model.generator.init")

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        h = self.project(self.latent_input(z, labels)).view(-1, self.width, self.base, self.base)
        for block in self.blocks:
            h = block(h, labels)
        return torch.tanh(self.to_image(F.relu(self.norm(h, labels))))


class ResNetDiscriminator(ScoringDiscriminator):
    def __init__(
        self,
        data_shape: tuple[int, ...],
        width: int = 128,
        normalization: str = "spectral",
        init: str = "default",
        num_classes: int | None = None,
        conditioning: str = "none",
    ) -> None:
        super().__init__()
        require_positive_int("model.discriminator.width", width, 128)
        channels, _, stages = image_grid(data_shape, NAME)
        self.normalization = check_normalization(normalization)
        if normalization in ("batch", "layer"):
            raise GanArenaError(
                f"the SNGAN ResNet's discriminator has no {normalization} norm option: set "
                "model.discriminator.normalization=spectral or none"
            )
        self.set_conditioning(conditioning, num_classes)
        in_channels = channels + self.label_channels
        blocks = [DownBlock(in_channels, width, down=True, first=True)]
        blocks += [DownBlock(width, width, down=True) for _ in range(stages - 2)]
        blocks += [DownBlock(width, width, down=False) for _ in range(2)]
        self.blocks = nn.Sequential(*blocks)
        self.score = nn.Linear(width, 1)
        self.label_head = LabelHead(conditioning, width, num_classes)
        initialize(self, init, "model.discriminator.init")
        if normalization == "spectral":
            apply_spectral_norm(self)

    def score_and_features(self, x: Tensor, labels: Tensor | None) -> tuple[Tensor, Tensor]:
        h = F.relu(self.blocks(self.labelled_input(x, labels)))
        features = h.sum(dim=(2, 3))  # global sum pooling, as published
        return self.score_from(features, self.score, labels), features
