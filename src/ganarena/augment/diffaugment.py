"""DiffAugment (Zhao et al. 2020): differentiable colour, translation and cutout, per sample.

The transforms follow the reference code (mit-han-lab/data-efficient-gans, DiffAugment_pytorch):
- color: brightness + U(-0.5, 0.5), saturation × U(0, 2), contrast × U(0.5, 1.5);
- translation: an integer shift of up to 1/8 of the size, zero padding;
- cutout: a zeroed square of half the size at a random place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganarena.errors import GanArenaError


def _uniform(images: Tensor, low: float, high: float) -> Tensor:
    shape = (images.shape[0], 1, 1, 1)
    return torch.rand(shape, device=images.device, dtype=images.dtype) * (high - low) + low


def color(images: Tensor) -> Tensor:
    images = images + _uniform(images, -0.5, 0.5)
    mean = images.mean(dim=1, keepdim=True)
    images = (images - mean) * _uniform(images, 0.0, 2.0) + mean
    mean = images.mean(dim=(1, 2, 3), keepdim=True)
    return (images - mean) * _uniform(images, 0.5, 1.5) + mean


def translation(images: Tensor, ratio: float = 1 / 8) -> Tensor:
    n, _, height, width = images.shape
    shift_h, shift_w = int(height * ratio + 0.5), int(width * ratio + 0.5)
    dy = torch.randint(-shift_h, shift_h + 1, (n, 1, 1), device=images.device)
    dx = torch.randint(-shift_w, shift_w + 1, (n, 1, 1), device=images.device)
    rows = torch.arange(height, device=images.device)[None, :, None] + dy + 1
    cols = torch.arange(width, device=images.device)[None, None, :] + dx + 1
    rows = rows.clamp(0, height + 1).expand(n, height, width)
    cols = cols.clamp(0, width + 1).expand(n, height, width)
    padded = F.pad(images, (1, 1, 1, 1))  # the zero border that shifted-in pixels read
    index = torch.arange(n, device=images.device)[:, None, None]
    return padded.permute(0, 2, 3, 1)[index, rows, cols].permute(0, 3, 1, 2)


def cutout(images: Tensor, ratio: float = 0.5) -> Tensor:
    n, _, height, width = images.shape
    size_h, size_w = int(height * ratio + 0.5), int(width * ratio + 0.5)
    top = torch.randint(0, height + (1 - size_h % 2), (n, 1, 1), device=images.device)
    left = torch.randint(0, width + (1 - size_w % 2), (n, 1, 1), device=images.device)
    rows = torch.arange(height, device=images.device)[None, :, None] - (top - size_h // 2)
    cols = torch.arange(width, device=images.device)[None, None, :] - (left - size_w // 2)
    inside = (rows >= 0) & (rows < size_h) & (cols >= 0) & (cols < size_w)
    return images * (~inside)[:, None].to(images.dtype)


POLICIES: dict[str, Callable[[Tensor], Tensor]] = {
    "color": color,
    "translation": translation,
    "cutout": cutout,
}


def check_policy(policy: Sequence[str] | str) -> tuple[str, ...]:
    names = tuple(policy.split(",")) if isinstance(policy, str) else tuple(policy)
    unknown = [name for name in names if name not in POLICIES]
    if unknown or not names:
        raise GanArenaError(
            f"augment.policy={','.join(names)!r} has unknown transforms {unknown}: choose from "
            f"{', '.join(POLICIES)} (e.g. augment.policy=color,translation,cutout)"
        )
    return names


def check_probability(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise GanArenaError(f"{name} must be a probability in [0, 1], got {value!r}")
    return float(value)


class Augment(nn.Module):
    """The interface: `forward(images)` augments; `observe(real_scores)` after each D step
    lets adaptive ones follow D; `log_values()` gives figures worth logging."""

    def observe(self, real_scores: Tensor) -> None:
        """Called with D's scores of each real batch; nothing to do for a fixed policy."""

    def log_values(self) -> dict[str, Tensor]:
        return {}


class DiffAugment(Augment):
    """Each transform of `policy`, in order, to each sample with probability `probability`
    (1: always, as in DiffAugment)."""

    def __init__(
        self, policy: Sequence[str] | str = "color,translation,cutout", probability: float = 1.0
    ) -> None:
        super().__init__()
        self.policy = check_policy(policy)
        self.register_buffer(
            "probability", torch.tensor(check_probability("augment.probability", probability))
        )

    def forward(self, images: Tensor) -> Tensor:
        for name in self.policy:
            augmented = POLICIES[name](images)
            chosen = torch.rand(images.shape[0], 1, 1, 1, device=images.device)
            images = torch.where(chosen < self.probability, augmented, images)
        return images

    def extra_repr(self) -> str:
        return f"policy={','.join(self.policy)}"
