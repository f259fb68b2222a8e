"""The base of the metrics computed on features of generated samples (FID, KID, IS, ...)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor
from torchmetrics import Metric

from ganarena.callbacks.measurement import ScheduledMeasurement
from ganarena.data.base import GANDataModule
from ganarena.errors import GanArenaError
from ganarena.features.base import FeatureExtractor, FeatureOutputs
from ganarena.features.factory import FeatureSpec
from ganarena.gan_module import GANModule
from ganarena.metrics.feature_bank import feature_bank, rank_seed, sample_inputs
from ganarena.ranks import rank_and_world_size, share_of


class FeatureMetricCallback(ScheduledMeasurement):
    """Generates `num_samples` (split over ranks), embeds them once, updates a torchmetrics
    metric and logs its values; real features come from the bank's disk cache.

    Subclasses give `make_metric`, `add_real`, `add_fake` and `results`, and may refuse
    data in `check` (return a reason to skip, or raise a GanArenaError for a bad setting).
    """

    #: False for metrics of the generated samples alone: the real data is then never embedded.
    reads_real_data = True

    def __init__(
        self,
        features: Mapping[str, Any] | FeatureSpec | None = None,
        num_samples: int = 10_000,
        num_real_samples: int | None = None,
        every_n_steps: int = 500,
        batch_size: int = 500,
        seed: int = 1234,
    ) -> None:
        super().__init__(every_n_steps, seed)
        self.spec = FeatureSpec.from_config(features)
        self.num_samples = num_samples
        self.num_real_samples = num_real_samples
        self.batch_size = batch_size
        self.extractor: FeatureExtractor | None = None
        self.metric: Metric | None = None
        self.real_count = 0

    def prepare(self, datamodule: GANDataModule, device: torch.device) -> str | None:
        if len(datamodule.sample_shape) != 3:
            return f"{datamodule.name} holds points of shape {datamodule.sample_shape}, not images"
        if self.num_samples < 2:
            raise GanArenaError(f"{self.label}.num_samples={self.num_samples}: set it to >= 2")
        bank = feature_bank(datamodule)
        self.extractor = bank.extractor(self.spec, device)
        self.real_count = min(
            self.num_real_samples or self.num_samples, datamodule.num_reference_samples
        )
        reason = self.check(datamodule, self.extractor)
        if reason is not None:
            return reason
        self.metric = self.make_metric(self.extractor).to(device)
        if self.reads_real_data:
            real = bank.real(self.extractor, self.real_count, self.spec.stats_dir, self.batch_size)
            self.add_real(self.metric, real.to(device), first_rank=rank_and_world_size()[0] == 0)
        return None

    def measure(self, module: GANModule, datamodule: GANDataModule, tag: object) -> dict:
        assert self.metric is not None
        fake = self.generated_features(module, datamodule, tag)
        self.metric.reset()
        self.add_fake(self.metric, fake.to(self.metric.device))
        return self.results(self.metric)

    def generated_features(
        self, module: GANModule, datamodule: GANDataModule, tag: object
    ) -> FeatureOutputs:
        """This rank's share of the samples, embedded once per step for every metric."""
        assert self.extractor is not None
        return feature_bank(datamodule).fake(
            module, self.extractor, self.num_samples, self.seed, self.batch_size, tag
        )

    def describe(self) -> dict[str, Any]:
        described = {} if self.extractor is None else self.extractor.describe()
        return {**described, "num_samples": self.num_samples, "num_real_samples": self.real_count}

    # -- subclass hooks ----------------------------------------------------------------------
    def check(self, datamodule: GANDataModule, extractor: FeatureExtractor) -> str | None:
        return None

    def make_metric(self, extractor: FeatureExtractor) -> Metric:
        raise NotImplementedError

    def add_real(self, metric: Metric, real: FeatureOutputs, first_rank: bool) -> None:
        """Real data enters summed states on rank 0 only, so the DDP reduction counts it once."""

    def add_fake(self, metric: Metric, fake: FeatureOutputs) -> None:
        raise NotImplementedError

    def results(self, metric: Metric) -> dict[str, float]:
        raise NotImplementedError


class ConditionalFeatureMetricCallback(FeatureMetricCallback):
    """A metric of a class-conditional generator: it sees the label each sample was asked
    for. Skips itself (one info line) when the generator is unconditional.

    Subclasses give `add_labelled_fake` instead of `add_fake`.
    """

    def mismatch(self, module: GANModule) -> str | None:
        if not getattr(module, "num_classes", None):
            return "the generator is unconditional (conditioning=none)"
        return None

    def measure(self, module: GANModule, datamodule: GANDataModule, tag: object) -> dict:
        assert self.metric is not None
        fake = self.generated_features(module, datamodule, tag)
        # The labels the samples were generated with: the same seed, the same draw.
        _, labels = sample_inputs(
            share_of(self.num_samples), module.latent_dim, module.num_classes, rank_seed(self.seed)
        )
        assert labels is not None
        self.metric.reset()
        device = self.metric.device
        self.add_labelled_fake(self.metric, fake.to(device), labels.to(device))
        return self.results(self.metric)

    def add_labelled_fake(self, metric: Metric, fake: FeatureOutputs, labels: Tensor) -> None:
        raise NotImplementedError
