"""A grey-image classifier read once per channel: the features of Stacked digits and MNIST.

A stacked image holds three digits, one per channel. Its class is the triple of the digits'
classes, 100·a + 10·b + c, so the logits of the 1,000 classes are the summed log-probabilities
of the three channels (the arg-max is the triple of the per-channel arg-maxes), and the
features are the three channels' features side by side.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ganarena.errors import GanArenaError
from ganarena.features.base import FeatureExtractor, FeatureOutputs


class ChannelwiseFeatures(FeatureExtractor):
    """Applies a one-channel, K-class extractor to each of C channels: K**C classes."""

    def __init__(self, base: FeatureExtractor, channels: int = 3) -> None:
        super().__init__()
        if base.num_classes is None:
            raise GanArenaError(
                f"the features {base.identity} give no class logits, so they cannot count the "
                "modes of stacked data: use callbacks.metric_features.name=domain_classifier"
            )
        self.base = base
        self.channels = channels
        self.base_classes = base.num_classes
        self.num_classes = base.num_classes**channels
        self.num_features = base.num_features * channels
        self.identity = f"channelwise{channels}-{base.identity}"

    @torch.no_grad()
    def extract(self, images: Tensor) -> FeatureOutputs:
        count, channels, height, width = images.shape
        grey = images.reshape(count * channels, 1, height, width)
        outputs = self.base.extract(grey)
        assert outputs.logits is not None
        features = outputs.features.reshape(count, -1)
        log_probs = outputs.logits.float().log_softmax(dim=1).reshape(count, channels, -1)
        return FeatureOutputs(features, joint_log_probs(log_probs))

    def check_data(self, sample_shape: tuple[int, ...], num_classes: int | None) -> None:
        shape = tuple(sample_shape)
        if len(shape) != 3 or shape[0] != self.channels:
            raise GanArenaError(
                f"the channel-wise features {self.identity} read {self.channels}-channel images "
                f"but the data has samples of shape {shape}: use them on stacked data only"
            )
        self.base.check_data((1, *shape[1:]), None)
        if num_classes is not None and num_classes != self.num_classes:
            raise GanArenaError(
                f"the channel-wise features {self.identity} have {self.num_classes} classes but "
                f"the data has {num_classes}: use them on stacked data only"
            )

    def describe(self) -> dict[str, Any]:
        return {**self.base.describe(), **super().describe(), "read_per_channel": True}


def joint_log_probs(log_probs: Tensor) -> Tensor:
    """(N, C, K) per-channel log-probabilities -> (N, K**C), class index in base K, first
    channel most significant (100·a + 10·b + c for three digits)."""
    joint = log_probs[:, 0]
    for channel in range(1, log_probs.shape[1]):
        joint = (joint[:, :, None] + log_probs[:, channel, None, :]).flatten(1)
    return joint
