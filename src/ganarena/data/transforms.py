"""How images reach `image_size`: the shorter side is resized, then the centre is cropped.

One recipe for tensors resized once in memory and for files decoded on the fly, so the same
`image_size` means the same thing for every data module.
"""

from __future__ import annotations

import torch
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F

RESIZE_CHUNK = 4096  # images per resize call: bounds the temporary memory of a large set


def resize_images(images: torch.Tensor, image_size: int) -> torch.Tensor:
    """Resize a (N, C, H, W) batch once at setup (bilinear, antialiased), keeping its dtype."""
    if images.shape[-2:] == (image_size, image_size):
        return images
    chunks = [
        F.center_crop(F.resize(chunk, [image_size], antialias=True), [image_size])
        for chunk in images.split(RESIZE_CHUNK)
    ]
    return torch.cat(chunks)


def file_image_transform(image_size: int, center_crop: int | None = None) -> v2.Compose:
    """PIL image -> float32 (C, image_size, image_size) in [-1, 1].

    `center_crop` first cuts a fixed square (CelebA's DCGAN recipe crops the face at 178).
    """
    steps = [v2.CenterCrop(center_crop)] if center_crop is not None else []
    steps += [
        v2.Resize(image_size, antialias=True),
        v2.CenterCrop(image_size),
        v2.PILToTensor(),
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize(mean=[0.5], std=[0.5]),
    ]
    return v2.Compose(steps)
