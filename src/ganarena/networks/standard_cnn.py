"""The "standard CNN" of Miyato et al. 2018 (Table 3; SNDCGAN in Kurach et al. 2019).

For an image of size b·2^k (b in 4..7) it has k stages; at 32x32 (k = 3) these are exactly
the published networks:
- D: in each stage a 3x3 stride-1 convolution then a 4x4 stride-2 one, at 64, 128, 256
  channels, then a 3x3 convolution at 512, LeakyReLU(0.1), a linear score; spectral
  normalisation of every layer by default (Kurach et al.'s recommended setting);
- G: z → linear to b x b x 512 → 4x4 stride-2 transposed convolutions to 256, 128, 64 →
  3x3 convolution to the image, batch norm and ReLU after every layer but the last, tanh.
`width` (64) is the first stage's channels; each later stage doubles it.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ganarena.networks.conditioning import (
    ConditionedGenerator,
    LabelHead,
    ScoringDiscriminator,
    generator_norm,
)
from ganarena.networks.dcgan_layout import image_grid
from ganarena.networks.init import initialize
from ganarena.networks.normalization import (
    apply_spectral_norm,
    check_normalization,
    conv_normalization,
)
from ganarena.options import require_positive_int

NAME = "the standard CNN (model=sndcgan)"
SLOPE = 0.1  # Miyato et al. 2018, Table 3: LeakyReLU with slope 0.1


class StandardCNNGenerator(ConditionedGenerator):
    def __init__(
        self,
        data_shape: tuple[int, ...],
        latent_dim: int = 128,
        width: int = 64,
        init: str = "default",
        num_classes: int | None = None,
        conditioning: str = "none",
    ) -> None:
        super().__init__()
        require_positive_int("model.generator.latent_dim", latent_dim, 128)
        require_positive_int("model.generator.width", width, 64)
        channels, base, stages = image_grid(data_shape, NAME)
        self.data_shape = tuple(int(d) for d in data_shape)
        self.latent_dim = latent_dim
        self.set_conditioning(conditioning, num_classes)
        widths = [width * 2 ** (stages - i) for i in range(stages + 1)]  # coarsest first
        self.base, self.top_channels = base, widths[0]
        self.project = nn.Linear(latent_dim + self.label_features, widths[0] * base * base)
        self.norms = nn.ModuleList(generator_norm(conditioning, w, num_classes) for w in widths)
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(widths[i], widths[i + 1], 4, 2, 1) for i in range(stages)
        )
        self.to_image = nn.Conv2d(widths[-1], channels, 3, 1, 1)
        initialize(self, init, "model.generator.init")

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        h = self.project(self.latent_input(z, labels))
        h = h.view(-1, self.top_channels, self.base, self.base)
        h = torch.relu(self.norms[0](h, labels))
        for up, norm in zip(self.up, self.norms[1:], strict=True):
            h = torch.relu(norm(up(h), labels))
        return torch.tanh(self.to_image(h))


class StandardCNNDiscriminator(ScoringDiscriminator):
    def __init__(
        self,
        data_shape: tuple[int, ...],
        width: int = 64,
        normalization: str = "spectral",
        init: str = "default",
        num_classes: int | None = None,
        conditioning: str = "none",
    ) -> None:
        super().__init__()
        require_positive_int("model.discriminator.width", width, 64)
        channels, base, stages = image_grid(data_shape, NAME)
        self.normalization = check_normalization(normalization)
        self.set_conditioning(conditioning, num_classes)
        layers: list[nn.Module] = []
        in_channels = channels + self.label_channels
        for stage in range(stages):
            out_channels = width * 2**stage
            for kernel, stride in ((3, 1), (4, 2)):
                layers.append(nn.Conv2d(in_channels, out_channels, kernel, stride, padding=1))
                if len(layers) > 1:  # the first convolution is never normalised
                    layers += conv_normalization(normalization, out_channels)
                layers.append(nn.LeakyReLU(SLOPE))
                in_channels = out_channels
        top = width * 2**stages
        layers += [nn.Conv2d(in_channels, top, 3, 1, 1), *conv_normalization(normalization, top)]
        layers.append(nn.LeakyReLU(SLOPE))
        self.features = nn.Sequential(*layers)
        num_features = top * base * base
        self.score = nn.Linear(num_features, 1)
        self.label_head = LabelHead(conditioning, num_features, num_classes)
        initialize(self, init, "model.discriminator.init")
        if normalization == "spectral":
            apply_spectral_norm(self)
