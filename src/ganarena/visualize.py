"""Pictures of samples: an image grid, or a scatter of 2-D points over the real mixture."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: runs on servers and in CI

import matplotlib.pyplot as plt
import numpy as np
import torch
from PIL import Image
from torch import Tensor
from torchvision.utils import make_grid

#: Small images are enlarged (nearest neighbour) until the grid is at least this wide.
MIN_GRID_WIDTH = 512


def image_grid(samples: Tensor, nrow: int = 8) -> np.ndarray:
    """Images in [-1, 1], shape (N, C, H, W), as one uint8 (H, W, C) grid for a PNG."""
    images = samples.detach().float().cpu().clamp(-1, 1).add(1).div(2)
    grid = make_grid(images, nrow=nrow, padding=1, pad_value=1.0)
    if images.shape[1] == 1:
        grid = grid[:1]  # make_grid repeats one channel as three: a grey PNG is a third
    scale = max(1, MIN_GRID_WIDTH // grid.shape[-1])
    if scale > 1:
        grid = torch.nn.functional.interpolate(grid[None], scale_factor=scale, mode="nearest")[0]
    return grid.mul(255).round().to(torch.uint8).permute(1, 2, 0).numpy()


def save_image_grid(samples: Tensor, path: Path, nrow: int = 8) -> Path:
    grid = image_grid(samples, nrow)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Fast compression: these grids are written during training, and zlib's default
    # level took 5 ms of a 512-pixel grid for files a sixth smaller.
    Image.fromarray(grid.squeeze(-1) if grid.shape[-1] == 1 else grid).save(path, compress_level=1)
    return path


def save_scatter(
    fake: Tensor, real: Tensor, path: Path, means: Tensor | None = None, title: str = ""
) -> Path:
    """Generated points (red) over real points (grey), with the mixture means marked."""
    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    real_np, fake_np = real.detach().cpu().numpy(), fake.detach().float().cpu().numpy()
    ax.scatter(real_np[:, 0], real_np[:, 1], s=2, c="0.6", alpha=0.5, label="real")
    ax.scatter(fake_np[:, 0], fake_np[:, 1], s=2, c="tab:red", alpha=0.6, label="generated")
    if means is not None:
        m = means.cpu().numpy()
        ax.scatter(m[:, 0], m[:, 1], s=40, marker="x", c="k", label="modes")
    low, high = real_np.min(0), real_np.max(0)
    margin = 0.25 * (high - low).max()
    ax.set_xlim(low[0] - margin, high[0] + margin)
    ax.set_ylim(low[1] - margin, high[1] + margin)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=7, markerscale=3)
    ax.set_title(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path
