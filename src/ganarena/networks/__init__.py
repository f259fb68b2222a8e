"""Generators and discriminators: G(z, labels) -> samples, D(x, labels) -> raw scores (N,)."""

from __future__ import annotations

from ganarena.networks.autoencoder import AutoencoderDiscriminator
from ganarena.networks.dcgan import DCGANDiscriminator, DCGANGenerator
from ganarena.networks.infogan import InfoGANDiscriminator, InfoGANGenerator
from ganarena.networks.mlp import MLPDiscriminator, MLPGenerator
from ganarena.networks.normalization import NORMALIZATIONS
from ganarena.networks.resnet import ResNetDiscriminator, ResNetGenerator
from ganarena.networks.standard_cnn import StandardCNNDiscriminator, StandardCNNGenerator

__all__ = [
    "NORMALIZATIONS",
    "AutoencoderDiscriminator",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "InfoGANDiscriminator",
    "InfoGANGenerator",
    "MLPDiscriminator",
    "MLPGenerator",
    "ResNetDiscriminator",
    "ResNetGenerator",
    "StandardCNNDiscriminator",
    "StandardCNNGenerator",
]
