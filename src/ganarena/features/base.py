"""The interface every feature extractor follows, so metrics never special-case a network.

An extractor takes samples as the generator makes them (images in [-1, 1]) and does its own
conversion, so one feature pass serves FID, KID, precision/recall, IS and class coverage.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from ganarena.errors import GanArenaError


class FeatureUnavailable(GanArenaError):
    """The extractor cannot be built here (e.g. no Inception weights offline): skip the metric."""


@dataclass
class FeatureOutputs:
    """Features (N, d) for the distance metrics and logits (N, K) for IS and class coverage."""

    features: Tensor
    logits: Tensor | None = None

    def to(self, device: torch.device | str) -> FeatureOutputs:
        logits = None if self.logits is None else self.logits.to(device)
        return FeatureOutputs(self.features.to(device), logits)

    @staticmethod
    def concatenate(parts: list[FeatureOutputs]) -> FeatureOutputs:
        features = torch.cat([part.features for part in parts])
        has_logits = parts[0].logits is not None
        logits = torch.cat([part.logits for part in parts]) if has_logits else None
        return FeatureOutputs(features, logits)


class FeatureExtractor(nn.Module):
    """Maps images in [-1, 1] to features (and class logits where the network has them).

    `identity` names the network AND its weights: it keys the on-disk cache of real-data
    features, so two different weight files never share statistics.
    """

    num_features: int
    num_classes: int | None = None
    identity: str = "unnamed"

    def train(self, mode: bool = True) -> FeatureExtractor:
        """A measuring instrument: it stays in eval mode (batch norm, dropout) whatever is asked."""
        return super().train(False)

    def extract(self, images: Tensor) -> FeatureOutputs:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """What is recorded with every result, so figures say what they were measured with."""
        return {"features": self.identity, "num_features": self.num_features}

    def check_data(self, sample_shape: tuple[int, ...], num_classes: int | None) -> None:
        """Raise when the extractor cannot read this data (wrong shape or class count)."""


def file_digest(path: str, length: int = 12) -> str:
    """A short content hash of a weights file: the cache key changes when the weights do."""
    digest = hashlib.sha1(usedforsecurity=False)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:length]


def state_digest(module: nn.Module, length: int = 12) -> str:
    """A short hash of a module's parameters and buffers (user modules have no weights file)."""
    digest = hashlib.sha1(usedforsecurity=False)
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:length]
