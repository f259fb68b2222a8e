"""Generators and discriminators: G(z, labels) -> samples, D(x, labels) -> raw scores (N,)."""

from __future__ import annotations

from ganarena.networks.autoencoder import AutoencoderDiscriminator
from ganarena.networks.dcgan import DCGANDiscriminator, DCGANGenerator
from ganarena.networks.mlp import MLPDiscriminator, MLPGenerator
from ganarena.networks.normalization import NORMALIZATIONS

__all__ = [
    "NORMALIZATIONS",
    "AutoencoderDiscriminator",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "MLPDiscriminator",
    "MLPGenerator",
]
