"""Data that fits in memory, served a whole batch per indexing operation.

The DataLoader's fetcher calls `__getitems__` with the batch's index list, so a batch costs one
tensor gather instead of B `__getitem__` calls plus a collate that copies everything again.
"""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

Batch = tuple[torch.Tensor, torch.Tensor]


def collate_prebatched(batch: Batch) -> Batch:
    """`InMemoryDataset.__getitems__` already returns the batch; a module-level def pickles."""
    return batch


def scale_to_unit_range(samples: torch.Tensor) -> torch.Tensor:
    """uint8 images go to float32 in [-1, 1]; float data (points, prescaled images) is kept."""
    if samples.dtype == torch.uint8:
        return samples.float() / 127.5 - 1.0
    return samples


class InMemoryDataset(Dataset):
    """Samples and labels as tensors; images stay uint8 (4x less memory) until batched."""

    def __init__(self, samples: torch.Tensor, labels: torch.Tensor | None = None):
        if labels is None:
            labels = torch.full((len(samples),), -1, dtype=torch.int64)
        if len(labels) != len(samples):
            raise ValueError(f"{len(samples)} samples but {len(labels)} labels")
        self.samples = samples
        self.labels = labels.to(torch.int64)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> Batch:
        return scale_to_unit_range(self.samples[index]), self.labels[index]

    def __getitems__(self, indices: list[int]) -> Batch:
        index = torch.as_tensor(indices, dtype=torch.int64)
        return scale_to_unit_range(self.samples[index]), self.labels[index]
