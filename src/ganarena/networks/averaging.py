"""An exponential moving average of the generator's weights: the generator to sample from.

Adam's steps keep a GAN's generator circling the point it should settle on; averaging its
weights over the last ~1/(1 - decay) steps removes most of that circling (Yazıcı et al.
2019, "The unusual effectiveness of averaging in GAN training"). ProGAN, BigGAN and
StyleGAN all evaluate such an average. It never trains: the discriminator only ever sees the
raw generator, so the average changes what is measured and drawn, not the game.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn

from ganarena.errors import GanArenaError
from ganarena.networks.modes import eval_mode


def check_decay(decay: float) -> float:
    if not 0.0 <= decay < 1.0:
        raise GanArenaError(
            f"model.ema_decay={decay}: use a value in [0, 1) such as 0.999, or null to sample "
            "from the raw generator"
        )
    return float(decay)


class GeneratorAverage(nn.Module):
    """A frozen copy of the generator whose weights follow it as an exponential average.

    The decay ramps up as min(decay, (1 + t) / (10 + t)) over the first updates t, so the
    random initial weights do not linger in the average of a short run. Buffers (batch-norm
    statistics) are copied, not averaged. It always samples in eval mode, whatever mode the
    trainer set: its flags follow the trainer's, so Lightning sees no module left in eval
    mode and warns of none.
    """

    def __init__(self, generator: nn.Module, decay: float = 0.999) -> None:
        super().__init__()
        self.decay = check_decay(decay)
        self.network = copy.deepcopy(generator).requires_grad_(False)
        self.register_buffer("updates", torch.zeros((), dtype=torch.int64))

    def decay_now(self) -> Tensor:
        """min(decay, (1 + t) / (10 + t)) as a tensor on the weights' device: reading the
        update count on the host would stall a GPU at every generator step."""
        t = self.updates.double()
        return ((1 + t) / (10 + t)).clamp(max=self.decay)

    def current_decay(self) -> float:
        return float(self.decay_now())

    @torch.no_grad()
    def update(self, generator: nn.Module) -> None:
        weight = 1.0 - self.decay_now()
        for average, current in zip(self.network.parameters(), generator.parameters(), strict=True):
            average.lerp_(current, weight.to(average.dtype))
        for average, current in zip(self.network.buffers(), generator.buffers(), strict=True):
            average.copy_(current)
        self.updates += 1

    def forward(self, noise: Tensor, labels: Tensor | None = None) -> Tensor:
        with eval_mode(self.network):
            return self.network(noise, labels)
