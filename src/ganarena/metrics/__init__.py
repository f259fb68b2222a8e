"""Measures of what a GAN learns."""

from ganarena.metrics.mode_coverage import ModeCoverage, mode_coverage

__all__ = ["ModeCoverage", "mode_coverage"]
