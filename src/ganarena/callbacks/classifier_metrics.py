"""IS, class coverage and precision/recall callbacks."""

from __future__ import annotations

from torch import Tensor
from torchmetrics import Metric
from torchmetrics.classification import MulticlassAccuracy

from ganarena.callbacks.feature_metric import (
    ConditionalFeatureMetricCallback,
    FeatureMetricCallback,
)
from ganarena.data.base import GANDataModule
from ganarena.errors import GanArenaError
from ganarena.features.base import FeatureExtractor, FeatureOutputs
from ganarena.metrics.class_coverage import ClassCoverage
from ganarena.metrics.distances import inception_score_metric, seeded_compute
from ganarena.metrics.precision_recall import ImprovedPrecisionRecall


def classifier_mismatch(datamodule: GANDataModule, extractor: FeatureExtractor) -> str | None:
    """Why the extractor cannot classify this data's classes, or None when it can."""
    if not datamodule.num_classes:
        return f"{datamodule.name} has no classes"
    if extractor.num_classes != datamodule.num_classes:
        return (
            f"the features {extractor.identity} do not classify the {datamodule.num_classes}"
            f" classes of {datamodule.name} (use the domain classifier)"
        )
    return None


class InceptionScoreCallback(FeatureMetricCallback):
    """Logs `val/is` and `val/is_std` from the extractor's class logits."""

    label = "inception_score"
    summaries = {"val/is": "max"}

    def __init__(self, *args, splits: int = 10, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.splits = splits

    def check(self, datamodule: GANDataModule, extractor: FeatureExtractor) -> str | None:
        if extractor.num_classes is None:
            return f"the features {extractor.identity} give no class logits"
        return None

    def make_metric(self, extractor: FeatureExtractor) -> Metric:
        return inception_score_metric(extractor.num_classes, self.splits)

    def add_fake(self, metric: Metric, fake: FeatureOutputs) -> None:
        metric.update(fake.logits)

    def results(self, metric: Metric) -> dict[str, float]:
        mean, std = seeded_compute(metric, self.seed)
        return {"val/is": float(mean), "val/is_std": float(std)}


class ClassCoverageCallback(FeatureMetricCallback):
    """Logs `val/classes_covered` and `val/class_kl` through the domain classifier."""

    label = "class_coverage"
    summaries = {"val/classes_covered": "max", "val/class_kl": "min"}

    def __init__(self, *args, min_count: int = 1, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.min_count = min_count

    def check(self, datamodule: GANDataModule, extractor: FeatureExtractor) -> str | None:
        return classifier_mismatch(datamodule, extractor)

    def make_metric(self, extractor: FeatureExtractor) -> Metric:
        return ClassCoverage(extractor.num_classes, self.min_count)

    def add_real(self, metric: Metric, real: FeatureOutputs, first_rank: bool) -> None:
        metric.set_reference(real.logits)

    def add_fake(self, metric: Metric, fake: FeatureOutputs) -> None:
        metric.update(fake.logits)

    def results(self, metric: Metric) -> dict[str, float]:
        covered, kl = metric.compute()
        return {"val/classes_covered": float(covered), "val/class_kl": float(kl)}


class PrecisionRecallCallback(FeatureMetricCallback):
    """Logs `val/precision` and `val/recall` (k-NN manifolds, Kynkäänniemi et al. 2019)."""

    label = "precision_recall"
    summaries = {"val/precision": "max", "val/recall": "max"}

    def __init__(self, *args, k: int = 3, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.k = k

    def check(self, datamodule: GANDataModule, extractor: FeatureExtractor) -> str | None:
        if min(self.num_samples, self.real_count) <= self.k:
            raise GanArenaError(
                f"precision_recall.k={self.k} needs more than {self.k} real and generated "
                "samples: raise callbacks.precision_recall.num_samples"
            )
        return None

    def make_metric(self, extractor: FeatureExtractor) -> Metric:
        return ImprovedPrecisionRecall(self.k)

    def add_real(self, metric: Metric, real: FeatureOutputs, first_rank: bool) -> None:
        metric.set_real(real.features)

    def add_fake(self, metric: Metric, fake: FeatureOutputs) -> None:
        metric.update(fake.features)

    def results(self, metric: Metric) -> dict[str, float]:
        precision, recall = metric.compute()
        return {"val/precision": float(precision), "val/recall": float(recall)}


class ConditionalAccuracyCallback(ConditionalFeatureMetricCallback):
    """Logs `val/conditional_accuracy`: how often the domain classifier sees the class that a
    conditional generator was asked for (chance is 1 / classes). Skips itself when the
    generator is unconditional.
    """

    label = "conditional_accuracy"
    summaries = {"val/conditional_accuracy": "max"}

    def check(self, datamodule: GANDataModule, extractor: FeatureExtractor) -> str | None:
        return classifier_mismatch(datamodule, extractor)

    def make_metric(self, extractor: FeatureExtractor) -> Metric:
        return MulticlassAccuracy(extractor.num_classes, average="micro")

    def add_labelled_fake(self, metric: Metric, fake: FeatureOutputs, labels: Tensor) -> None:
        metric.update(fake.logits, labels)

    def results(self, metric: Metric) -> dict[str, float]:
        return {"val/conditional_accuracy": float(metric.compute())}
