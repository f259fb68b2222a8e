"""Measures of what a GAN learns."""

from ganarena.metrics.class_coverage import ClassCoverage, kl_from_reference
from ganarena.metrics.class_fid import ClassConditionalFID
from ganarena.metrics.distances import frechet_distance
from ganarena.metrics.mode_coverage import ModeCoverage, mode_coverage
from ganarena.metrics.precision_recall import ImprovedPrecisionRecall, precision_recall

__all__ = [
    "ClassConditionalFID",
    "ClassCoverage",
    "ImprovedPrecisionRecall",
    "ModeCoverage",
    "frechet_distance",
    "kl_from_reference",
    "mode_coverage",
    "precision_recall",
]
