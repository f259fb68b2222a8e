"""Callbacks: checkpoints, samples, NaN guard, DDP sync check, metrics (FID, per-class FID, KID, IS,
precision/recall, class and mode coverage, Stacked-digits modes) and training diagnostics."""

from ganarena.callbacks.classifier_metrics import (
    ClassCoverageCallback,
    ConditionalAccuracyCallback,
    InceptionScoreCallback,
    PrecisionRecallCallback,
)
from ganarena.callbacks.diagnostics import TrainingDiagnostics
from ganarena.callbacks.distance_metrics import ClassFIDCallback, FIDCallback, KIDCallback
from ganarena.callbacks.guards import NonFiniteLossGuard
from ganarena.callbacks.last_checkpoint import LastCheckpoint
from ganarena.callbacks.measurement import ScheduledMeasurement
from ganarena.callbacks.mode_coverage import ModeCoverageCallback
from ganarena.callbacks.progress_bar import GANProgressBar
from ganarena.callbacks.samples import SampleWriter
from ganarena.callbacks.stacked_modes import StackedModesCallback
from ganarena.callbacks.sync_check import ParameterSyncCheck

__all__ = [
    "ClassCoverageCallback",
    "ClassFIDCallback",
    "ConditionalAccuracyCallback",
    "FIDCallback",
    "GANProgressBar",
    "InceptionScoreCallback",
    "KIDCallback",
    "LastCheckpoint",
    "ModeCoverageCallback",
    "NonFiniteLossGuard",
    "ParameterSyncCheck",
    "PrecisionRecallCallback",
    "SampleWriter",
    "ScheduledMeasurement",
    "StackedModesCallback",
    "TrainingDiagnostics",
]
