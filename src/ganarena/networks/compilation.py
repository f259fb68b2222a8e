"""A network compiled as the `compile` setting says: the GPU fast path of the adversarial
passes (`docs/benchmarks.md`, "On a GPU")."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

#: `compile` values that name a mode of torch's default compiler (inductor) rather than a
#: backend: `reduce-overhead` replays each compiled graph as a CUDA graph.
INDUCTOR_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


def compiled(network: nn.Module, setting: bool | str) -> Callable[..., Tensor]:
    """`network` compiled by inductor (True, or one of INDUCTOR_MODES) or by the backend
    `setting` names; itself when `setting` is false. Freeze the network outside the compiled
    call: dynamo keeps one graph per `requires_grad` state."""
    if not setting:
        return network
    if setting is True or setting in INDUCTOR_MODES:
        return torch.compile(network, mode=None if setting is True else setting)
    return torch.compile(network, backend=str(setting))
