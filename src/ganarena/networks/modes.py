"""A network in another mode for a while: in eval mode to sample, frozen for the other
network's step; each gives back the state it found."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn


@contextmanager
def eval_mode(network: nn.Module) -> Iterator[None]:
    """Run `network` in eval mode, then give it back the mode it had."""
    was_training = network.training
    network.eval()
    try:
        yield
    finally:
        network.train(was_training)


@contextmanager
def frozen(network: nn.Module) -> Iterator[None]:
    """`network` gets no gradients inside: the other network's step. Parameters that were
    frozen before stay frozen after."""
    parameters = [p for p in network.parameters() if p.requires_grad]
    for parameter in parameters:
        parameter.requires_grad_(False)
    try:
        yield
    finally:
        for parameter in parameters:
            parameter.requires_grad_(True)
