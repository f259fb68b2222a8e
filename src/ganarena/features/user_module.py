"""Any `nn.Module` as a feature extractor (`callbacks.metric_features.module={_target_: ...}`)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ganarena.features.base import FeatureExtractor, FeatureOutputs, state_digest


class ModuleFeatures(FeatureExtractor):
    """Wraps a module that maps [-1, 1] images to (N, d) features, or to (features, logits)."""

    def __init__(self, module: nn.Module, sample_shape: tuple[int, ...]):
        super().__init__()
        self.module = module.eval().requires_grad_(False)
        probe = self._run(torch.zeros(2, *sample_shape))
        self.num_features = probe.features.shape[1]
        self.num_classes = None if probe.logits is None else probe.logits.shape[1]
        kind = type(module)
        self.identity = f"module-{kind.__module__}.{kind.__qualname__}-{state_digest(module)}"

    def _run(self, images: Tensor) -> FeatureOutputs:
        output = self.module(images)
        if isinstance(output, tuple | list):
            return FeatureOutputs(output[0].flatten(1).float(), output[1].float())
        return FeatureOutputs(output.flatten(1).float())

    @torch.no_grad()
    def extract(self, images: Tensor) -> FeatureOutputs:
        return self._run(images)
