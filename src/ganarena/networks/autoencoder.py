"""BEGAN's discriminator: an autoencoder whose score is its reconstruction error.

Convolutional for images (any size DCGAN supports), fully connected for points and other
flat data, picked by `data_shape`: one option (`model/discriminator=autoencoder`, which
`loss=began` selects) serves the DCGAN and the MLP models alike.
"""

from __future__ import annotations

import math
from itertools import pairwise

from torch import Tensor, nn

from ganarena.errors import GanArenaError
from ganarena.networks.dcgan_layout import DCGANLayout, plan_layout
from ganarena.networks.init import initialize
from ganarena.networks.normalization import (
    apply_spectral_norm,
    check_normalization,
    conv_normalization,
    linear_normalization,
)
from ganarena.options import require_positive_int


class AutoencoderDiscriminator(nn.Module):
    """x → encoder → code (`code_dim`) → decoder → x̂; the score is e(x) = mean |x - x̂|.

    Images go through strided convolutions down to DCGAN's coarsest map and back up through
    transposed ones (`width` as in DCGAN); flat data through `depth` fully connected layers
    of `hidden_dim` units each way. ELU activations and a linear output, as in BEGAN
    (Berthelot et al. 2017). `forward` returns e(x) per sample, shape (N,): a reconstruction
    error, >= 0, not a logit. `is_autoencoder` tells `loss=began` it can use this network.
    """

    is_autoencoder = True

    def __init__(
        self,
        data_shape: tuple[int, ...],
        code_dim: int = 64,
        width: int = 64,
        hidden_dim: int = 256,
        depth: int = 3,
        normalization: str = "none",
        init: str | None = None,
        num_classes: int | None = None,
        conditioning: str = "none",
    ) -> None:
        super().__init__()
        require_positive_int("model.discriminator.code_dim", code_dim, 64)
        if conditioning != "none":
            raise GanArenaError(
                f"the autoencoder discriminator (loss=began) cannot be conditioned, got "
                f"conditioning={conditioning}: use conditioning=none"
            )
        self.data_shape = tuple(int(d) for d in data_shape)
        self.normalization = check_normalization(normalization)
        self.num_classes = None  # unconditional: labels are accepted and ignored
        self.conditioning = conditioning
        if len(self.data_shape) == 3:
            require_positive_int("model.discriminator.width", width, 64)
            layout = plan_layout(self.data_shape, width)
            self.encoder, self.decoder = _conv_autoencoder(layout, code_dim, normalization)
        else:
            require_positive_int("model.discriminator.hidden_dim", hidden_dim, 256)
            require_positive_int("model.discriminator.depth", depth, 3)
            features = math.prod(self.data_shape)
            self.encoder, self.decoder = _mlp_autoencoder(
                features, hidden_dim, depth, code_dim, normalization
            )
        if init is None:  # as the family's own discriminator: DCGAN's init for convolutions
            init = "dcgan" if len(self.data_shape) == 3 else "default"
        initialize(self, init, "model.discriminator.init")
        if normalization == "spectral":  # after init: it wraps the initialised weights
            apply_spectral_norm(self)

    def reconstruct(self, x: Tensor) -> Tensor:
        """The autoencoder's reconstruction of `x`, of the same shape."""
        return self.decoder(self.encoder(x)).view_as(x)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        """e(x): the mean absolute reconstruction error of each sample, shape (N,).

        `labels` are accepted, as by every discriminator, and ignored: BEGAN is unconditional.
        """
        return (x - self.reconstruct(x)).abs().flatten(1).mean(dim=1)


def _conv_autoencoder(
    layout: DCGANLayout, code_dim: int, normalization: str
) -> tuple[nn.Sequential, nn.Sequential]:
    """Strided convs down to (widths[-1], b, b) → code, and transposed convs back up."""
    coarse = layout.widths[-1] * layout.base**2
    encoder: list[nn.Module] = []
    for index, (in_ch, out_ch) in enumerate(pairwise((layout.channels, *layout.widths))):
        norm = conv_normalization(normalization, out_ch) if index > 0 else []
        encoder += [nn.Conv2d(in_ch, out_ch, 4, 2, 1), *norm, nn.ELU()]
    encoder += [nn.Flatten(1), nn.Linear(coarse, code_dim)]
    decoder: list[nn.Module] = [
        nn.Linear(code_dim, coarse),
        nn.Unflatten(1, (layout.widths[-1], layout.base, layout.base)),
        nn.ELU(),
    ]
    for in_ch, out_ch in pairwise(reversed(layout.widths)):
        norm = conv_normalization(normalization, out_ch)
        decoder += [nn.ConvTranspose2d(in_ch, out_ch, 4, 2, 1), *norm, nn.ELU()]
    decoder.append(nn.ConvTranspose2d(layout.widths[0], layout.channels, 4, 2, 1))
    return nn.Sequential(*encoder), nn.Sequential(*decoder)


def _mlp_autoencoder(
    features: int, hidden_dim: int, depth: int, code_dim: int, normalization: str
) -> tuple[nn.Sequential, nn.Sequential]:
    """`depth` ELU layers down to the code and `depth` back up; no norm on the first layer."""
    encoder = [nn.Flatten(1), *_mlp_stack(features, hidden_dim, depth, normalization, True)]
    encoder.append(nn.Linear(hidden_dim, code_dim))
    decoder = _mlp_stack(code_dim, hidden_dim, depth, normalization, False)
    decoder.append(nn.Linear(hidden_dim, features))
    return nn.Sequential(*encoder), nn.Sequential(*decoder)


def _mlp_stack(
    in_features: int, hidden_dim: int, depth: int, normalization: str, plain_first: bool
) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for index, (fan_in, fan_out) in enumerate(pairwise([in_features] + [hidden_dim] * depth)):
        norm = [] if index == 0 and plain_first else linear_normalization(normalization, fan_out)
        layers += [nn.Linear(fan_in, fan_out), *norm, nn.ELU()]
    return layers
