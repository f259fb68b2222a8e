"""Mode coverage of the 2-D Gaussian mixtures during training (VEEGAN and PacGAN protocol)."""

from __future__ import annotations

import torch

from ganarena.callbacks.measurement import ScheduledMeasurement
from ganarena.data.base import GANDataModule
from ganarena.gan_module import GANModule
from ganarena.metrics.feature_bank import generate_samples, rank_seed
from ganarena.metrics.mode_coverage import mode_histogram, reverse_kl_from_uniform
from ganarena.ranks import share_of, sum_across_ranks


class ModeCoverageCallback(ScheduledMeasurement):
    """Logs `val/modes_captured`, `val/high_quality_fraction` and `val/reverse_kl`.

    Each rank scores its share of `num_samples` points; the per-mode counts are summed
    across ranks, so the figures are those of all the points together.
    """

    label = "mode_coverage"
    summaries = {
        "val/modes_captured": "max",
        "val/high_quality_fraction": "max",
        "val/reverse_kl": "min",
    }

    def __init__(
        self,
        every_n_steps: int = 500,
        num_samples: int = 2_500,
        threshold: float = 3.0,
        seed: int = 1234,
    ) -> None:
        super().__init__(every_n_steps, seed)
        self.num_samples = num_samples
        self.threshold = threshold

    def prepare(self, datamodule: GANDataModule, device: torch.device) -> str | None:
        if getattr(datamodule, "means", None) is None or getattr(datamodule, "std", None) is None:
            return f"{datamodule.name} is not a Gaussian mixture (data=ring or data=grid)"
        return None

    def measure(self, module: GANModule, datamodule: GANDataModule, tag: object) -> dict:
        samples = generate_samples(module, share_of(self.num_samples), rank_seed(self.seed), 4096)
        histogram = mode_histogram(samples, datamodule.means, datamodule.std, self.threshold)
        histogram = sum_across_ranks(histogram.to(module.device))
        return {
            "val/modes_captured": float((histogram > 0).sum()),
            "val/high_quality_fraction": histogram.sum().item() / self.num_samples,
            "val/reverse_kl": reverse_kl_from_uniform(histogram.cpu()),
        }

    def describe(self) -> dict:
        return {"num_samples": self.num_samples, "threshold_std": self.threshold}
