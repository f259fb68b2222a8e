"""FID, per-class FID and KID callbacks: distances between real and generated features."""

from __future__ import annotations

import logging
import math
from typing import Any

from torch import Tensor
from torchmetrics import Metric

from ganarena.callbacks.feature_metric import (
    ConditionalFeatureMetricCallback,
    FeatureMetricCallback,
)
from ganarena.data.base import GANDataModule
from ganarena.errors import GanArenaError
from ganarena.features.base import FeatureExtractor, FeatureOutputs
from ganarena.metrics.class_fid import ClassConditionalFID
from ganarena.metrics.distances import (
    frechet_distance_metric,
    kernel_distance_metric,
    seeded_compute,
)

log = logging.getLogger(__name__)


class FIDCallback(FeatureMetricCallback):
    """Logs `val/fid` and `val/fid_best`; monitor it with ModelCheckpoint (mode min)."""

    label = "fid"
    summaries = {"val/fid": "min", "val/fid_best": "min"}

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

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "best": self.best}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        self.best = float(state_dict.get("best", math.inf))


class KIDCallback(FeatureMetricCallback):
    """Logs `val/kid` and `val/kid_std` over `subsets` random subsets of `subset_size`."""

    label = "kid"
    summaries = {"val/kid": "min"}

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


class ClassFIDCallback(ConditionalFeatureMetricCallback):
    """Logs `val/intra_fid` (the mean over classes) and `val/class_fid/<c>` for a conditional
    GAN: the FID between the samples asked for class c and the real samples of class c.
    Skips itself when the generator is unconditional.
    """

    label = "class_fid"
    summaries = {"val/intra_fid": "min", "val/class_fid/*": "min"}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.real_labels: Tensor | None = None
        self.classes = 0

    def check(self, datamodule: GANDataModule, extractor: FeatureExtractor) -> str | None:
        classes = datamodule.num_classes
        if not classes:
            return f"{datamodule.name} has no classes"
        self.classes = classes
        self.real_labels = datamodule.real_labels(self.real_count)  # those of the cached features
        fewest = min(self.num_samples, self.real_count) // classes
        if fewest <= extractor.num_features:
            log.warning(
                "class_fid: about %d samples per class for %d-dim features: each class's "
                "covariance is not full rank and its FID is biased upwards (compare runs with "
                "the same sample counts, or raise callbacks.class_fid.num_samples)",
                fewest,
                extractor.num_features,
            )
        return None

    def make_metric(self, extractor: FeatureExtractor) -> Metric:
        return ClassConditionalFID(self.classes, extractor.num_features)

    def add_real(self, metric: Metric, real: FeatureOutputs, first_rank: bool) -> None:
        assert self.real_labels is not None
        metric.set_real(real.features, self.real_labels)

    def add_labelled_fake(self, metric: Metric, fake: FeatureOutputs, labels: Tensor) -> None:
        metric.update(fake.features, labels)

    def results(self, metric: Metric) -> dict[str, float]:
        fids = metric.compute()
        values = {f"val/class_fid/{c}": float(fid) for c, fid in enumerate(fids)}
        measured = fids[~fids.isnan()]
        values["val/intra_fid"] = float(measured.mean()) if len(measured) else math.nan
        return values
