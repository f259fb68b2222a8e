"""Callbacks: sample pictures, a NaN guard and a data-parallel sanity check."""

from ganarena.callbacks.guards import NonFiniteLossGuard
from ganarena.callbacks.samples import SampleWriter
from ganarena.callbacks.sync_check import ParameterSyncCheck

__all__ = ["NonFiniteLossGuard", "ParameterSyncCheck", "SampleWriter"]
