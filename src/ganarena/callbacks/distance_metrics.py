"""FID and KID callbacks: distances between real and generated feature distributions."""

from __future__ import annotations

import logging
import math

from torchmetrics import Metric

from ganarena.callbacks.feature_metric import FeatureMetricCallback
from ganarena.data.base import GANDataModule
from ganarena.errors import GanArenaError
from ganarena.features.base import FeatureExtractor, FeatureOutputs
from ganarena.metrics.distances import (
    frechet_distance_metric,
    kernel_distance_metric,
    seeded_compute,
)

log = logging.getLogger(__name__)


class FIDCallback(FeatureMetricCallback):
    """Logs `val/fid` and `val/fid_best`; monitor it with ModelCheckpoint (mode min)."""

    label = "fid"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.best = math.inf

    def check(self, datamodule: GANDataModule, extractor: FeatureExtractor) -> str | None:
        fewest = min(self.num_samples, self.real_count)
        if fewest <= extractor.num_features:
            log.warning(
                "fid: %d real and %d generated samples for %d-dim features: the covariance is "
                "not full rank and FID is biased; raise callbacks.fid.num_samples (and the real "
                "set) well above %d",
                self.real_count,
                self.num_samples,
                extractor.num_features,
                extractor.num_features,
            )
        return None

    def make_metric(self, extractor: FeatureExtractor) -> Metric:
        return frechet_distance_metric(extractor.num_features)

    def add_real(self, metric: Metric, real: FeatureOutputs, first_rank: bool) -> None:
        if first_rank:
            metric.update(real.features.double(), real=True)

    def add_fake(self, metric: Metric, fake: FeatureOutputs) -> None:
        metric.update(fake.features.double(), real=False)

    def results(self, metric: Metric) -> dict[str, float]:
        fid = float(metric.compute())
        self.best = min(self.best, fid)
        return {"val/fid": fid, "val/fid_best": self.best}


class KIDCallback(FeatureMetricCallback):
    """Logs `val/kid` and `val/kid_std` over `subsets` random subsets of `subset_size`."""

    label = "kid"

    def __init__(self, *args, subsets: int = 100, subset_size: int = 1000, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.subsets = subsets
        self.subset_size = subset_size

    def check(self, datamodule: GANDataModule, extractor: FeatureExtractor) -> str | None:
        fewest = min(self.num_samples, self.real_count)
        if fewest < self.subset_size:
            raise GanArenaError(
                f"kid.subset_size={self.subset_size} needs that many generated and real samples "
                f"but there are {self.num_samples} generated and {self.real_count} real: set "
                f"callbacks.kid.subset_size={fewest} or raise callbacks.kid.num_samples"
            )
        return None

    def make_metric(self, extractor: FeatureExtractor) -> Metric:
        return kernel_distance_metric(extractor.num_features, self.subsets, self.subset_size)

    def add_real(self, metric: Metric, real: FeatureOutputs, first_rank: bool) -> None:
        if first_rank:
            metric.update(real.features, real=True)

    def add_fake(self, metric: Metric, fake: FeatureOutputs) -> None:
        metric.update(fake.features, real=False)

    def results(self, metric: Metric) -> dict[str, float]:
        mean, std = seeded_compute(metric, self.seed)
        return {"val/kid": float(mean), "val/kid_std": float(std)}
