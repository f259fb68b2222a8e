"""Weight initialisation options; DCGAN's small init is part of what makes it train stably."""

from __future__ import annotations

from torch import nn

from ganarena.options import require_choice

INITS = ("dcgan", "default")
DCGAN_STD = 0.02


def initialize(network: nn.Module, init: str, config_key: str) -> None:
    """Apply the `init` option to `network`; `default` keeps PyTorch's own initialisation."""
    require_choice(config_key, init, INITS)
    if init == "dcgan":
        network.apply(_dcgan_init)


def _dcgan_init(module: nn.Module) -> None:
    """Radford et al. 2016: weights N(0, 0.02), batch-norm scales N(1, 0.02), biases 0."""
    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
        nn.init.normal_(module.weight, 0.0, DCGAN_STD)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d | nn.BatchNorm1d) and module.affine:
        nn.init.normal_(module.weight, 1.0, DCGAN_STD)
        nn.init.zeros_(module.bias)
