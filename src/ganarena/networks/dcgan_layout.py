"""How deep and wide a DCGAN is for a given image shape, and the errors for shapes it cannot make.

An image of size b·2^k (base b in 4..7, k >= 1) takes k stride-2 blocks between b x b and full
size. The block next to full resolution has `width` channels and each block closer to b x b
doubles it, capped at MAX_WIDTH_FACTOR·width (8·width, the widest layer of the DCGAN paper's
64x64 networks) so 128x128 networks do not grow a 1024-channel layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ganarena.errors import GanArenaError

BASES = range(4, 8)
MAX_WIDTH_FACTOR = 8
SIZE_RULE = "size must be b·2^k with b in 4..7: 8, 16, 28, 32, 64, 128"


@dataclass(frozen=True)
class DCGANLayout:
    """The shape of a DCGAN: `widths[0]` is at full resolution, `widths[-1]` at b x b."""

    channels: int
    base: int
    widths: tuple[int, ...]


def image_grid(data_shape: Sequence[int], network: str = "DCGAN") -> tuple[int, int, int]:
    """(channels, base b, stride-2 stages k) of a square image of size b·2^k that the
    convolutional `network` can make; one line naming the fix otherwise."""
    channels, height, width_px = image_dims(data_shape, network)
    if height != width_px:
        raise GanArenaError(
            f"{network} needs square images, but the data gives {height}x{width_px}: "
            f"set data.image_size={_nearest_supported(max(height, width_px))}"
        )
    split = _split_size(height)
    if split is None:
        raise GanArenaError(
            f"{network} cannot make {height}x{height} images ({SIZE_RULE}): "
            f"set data.image_size={_nearest_supported(height)}"
        )
    return channels, *split


def plan_layout(data_shape: Sequence[int], width: int) -> DCGANLayout:
    """Check that `data_shape` is a square image DCGAN can make and lay out its blocks."""
    channels, base, num_blocks = image_grid(data_shape)
    widths = tuple(min(width * 2**i, MAX_WIDTH_FACTOR * width) for i in range(num_blocks))
    return DCGANLayout(channels=channels, base=base, widths=widths)


def image_dims(data_shape: Sequence[int], network: str) -> tuple[int, int, int]:
    """(C, H, W) of image data; anything else is not for convolutions."""
    shape = tuple(int(d) for d in data_shape)
    if len(shape) != 3:
        fix = "use model=points (or model=mlp)" if len(shape) == 1 else "use model=mlp"
        kind = "points" if len(shape) == 1 else "data"
        raise GanArenaError(
            f"{network} networks need images, but the data gives {kind} of shape {shape}: {fix}"
        )
    return shape[0], shape[1], shape[2]


def _split_size(size: int) -> tuple[int, int] | None:
    """(b, k) with size == b·2^k, b in 4..7 and k >= 1 (unique when it exists), else None."""
    for num_blocks in range(1, size.bit_length()):
        base, remainder = divmod(size, 2**num_blocks)
        if remainder == 0 and base in BASES:
            return base, num_blocks
    return None


def _nearest_supported(size: int) -> int:
    """The smallest supported size >= `size`: upscaling loses no detail, unlike cropping."""
    candidate = max(size, 8)
    while _split_size(candidate) is None:
        candidate += 1
    return candidate
