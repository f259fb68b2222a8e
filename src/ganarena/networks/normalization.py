"""Discriminator normalisation options, shared by every discriminator so they behave alike.

`batch` and `layer` insert a layer after a linear/conv layer; `spectral` instead rescales the
weights of every linear/conv layer (the first and last included) to spectral norm 1.
"""

from __future__ import annotations

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ganarena.options import require_choice

NORMALIZATIONS = ("none", "batch", "layer", "spectral")
BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)
NORMALIZATION_KEY = "model.discriminator.normalization"


def check_normalization(name: str) -> str:
    """Fail at construction time, not mid-training, on a misspelt normalisation."""
    require_choice(NORMALIZATION_KEY, name, NORMALIZATIONS)
    return name


def conv_normalization(name: str, channels: int) -> list[nn.Module]:
    """The layer to put after a conv layer; empty when the option does not add one."""
    if name == "batch":
        return [nn.BatchNorm2d(channels)]
    if name == "layer":
        # One group = normalise over (C, H, W) per sample, i.e. layer norm for feature maps.
        return [nn.GroupNorm(1, channels)]
    return []


def linear_normalization(name: str, features: int) -> list[nn.Module]:
    """The layer to put after a linear layer; empty when the option does not add one."""
    if name == "batch":
        return [nn.BatchNorm1d(features)]
    if name == "layer":
        return [nn.LayerNorm(features)]
    return []


def apply_spectral_norm(network: nn.Module) -> None:
    """Constrain every conv and linear layer of `network` to spectral norm 1, in place."""
    layers = [m for m in network.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    for layer in layers:  # listed first: registering a parametrisation adds submodules
        spectral_norm(layer)


def has_batch_norm(network: nn.Module) -> bool:
    """Whether any layer of `network` mixes the samples of a batch (batch norm of any kind)."""
    return any(isinstance(module, BATCH_NORMS) for module in network.modules())
