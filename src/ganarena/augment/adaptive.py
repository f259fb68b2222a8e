"""ADA's controller (Karras et al. 2020): the augmentation probability follows D's overfitting.

Every `interval` D steps, r_t = E sign(D(x_real)) over those steps; p moves by
sign(r_t - target) · (batch · interval) / speed_images, clamped to [0, 1]: up when D is too
sure of the reals (overfitting), down when it is not. target 0.6, interval 4 and 500,000
images for p to go from 0 to 1 are the paper's. The transforms are DiffAugment's (the paper's
18-transform pipeline is not reproduced). p and the sign sums are buffers, checkpointed, and the
sums are added over DDP ranks, so every rank holds the same p.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from ganarena.augment.diffaugment import DiffAugment, check_probability
from ganarena.errors import GanArenaError
from ganarena.ranks import sum_across_ranks


class AdaptiveAugment(DiffAugment):
    def __init__(
        self,
        policy: Sequence[str] | str = "color,translation,cutout",
        target: float = 0.6,
        interval: int = 4,
        speed_images: int = 500_000,
        initial_probability: float = 0.0,
    ) -> None:
        super().__init__(policy, initial_probability)
        self.target = check_probability("augment.target", target)
        if not isinstance(interval, int) or interval < 1 or speed_images <= 0:
            raise GanArenaError(
                f"augment.interval ({interval!r}) must be an integer >= 1 and "
                f"augment.speed_images ({speed_images!r}) positive: e.g. 4 and 500000"
            )
        self.interval, self.speed_images = interval, speed_images
        #: Over the current interval: sum of sign(D(x)), number of reals, number of D steps.
        self.register_buffer("sign_sum", torch.zeros(()))
        self.register_buffer("count", torch.zeros(()))
        self.steps = 0

    @torch.no_grad()
    def observe(self, real_scores: Tensor) -> None:
        self.sign_sum += real_scores.sign().sum()
        self.count += real_scores.numel()
        self.steps += 1
        if self.steps % self.interval:
            return
        sums = sum_across_ranks(torch.stack([self.sign_sum, self.count]))
        overfitting = sums[0] / sums[1]  # r_t
        step = sums[1] / self.speed_images  # batch · interval (all ranks) / speed
        moved = self.probability + torch.sign(overfitting - self.target) * step
        self.probability.copy_(moved.clamp(0.0, 1.0))
        self.sign_sum.zero_()
        self.count.zero_()

    def get_extra_state(self) -> dict[str, int]:
        return {"steps": self.steps}

    def set_extra_state(self, state: dict[str, int]) -> None:
        self.steps = int(state["steps"])

    def log_values(self) -> dict[str, Tensor]:
        return {"augment_p": self.probability}

    def extra_repr(self) -> str:
        return f"policy={','.join(self.policy)}, target={self.target}, interval={self.interval}"
