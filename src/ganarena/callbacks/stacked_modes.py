"""Modes covered on Stacked digits / Stacked MNIST, as VEEGAN, PacGAN and R3GAN count them."""

from __future__ import annotations

from torchmetrics import Metric

from ganarena.callbacks.feature_metric import FeatureMetricCallback
from ganarena.data.base import GANDataModule
from ganarena.features.base import FeatureExtractor, FeatureOutputs
from ganarena.metrics.class_coverage import ClassCoverage


class StackedModesCallback(FeatureMetricCallback):
    """Logs `val/modes_captured` (of 1,000) and `val/reverse_kl` (KL of the generated mode
    histogram from uniform) on `num_samples` samples, 26,000 as published.

    Each channel is classified by the grey base data's domain classifier, and a sample's mode
    is the triple of the three classes. Skips itself (one info line) on data that is not
    stacked (data=stacked_digits, data=stacked_mnist).
    """

    label = "stacked_modes"
    summaries = {"val/modes_captured": "max", "val/reverse_kl": "min"}
    reads_real_data = False

    def check(self, datamodule: GANDataModule, extractor: FeatureExtractor) -> str | None:
        if datamodule.stacked_from is None:
            return f"{datamodule.name} is not stacked data (data=stacked_digits, stacked_mnist)"
        return None

    def make_metric(self, extractor: FeatureExtractor) -> Metric:
        assert extractor.num_classes is not None
        metric = ClassCoverage(extractor.num_classes)
        metric.set_uniform_reference()
        return metric

    def add_fake(self, metric: Metric, fake: FeatureOutputs) -> None:
        metric.update(fake.logits)

    def results(self, metric: Metric) -> dict[str, float]:
        covered, kl = metric.compute()
        return {"val/modes_captured": float(covered), "val/reverse_kl": float(kl)}
