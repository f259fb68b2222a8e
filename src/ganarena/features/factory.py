"""Build the configured feature extractor for a data module (`callbacks.metric_features`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from ganarena.data.base import GANDataModule
from ganarena.data.in_memory import InMemoryDataset
from ganarena.errors import GanArenaError
from ganarena.features.base import FeatureExtractor, FeatureUnavailable
from ganarena.features.channelwise import ChannelwiseFeatures
from ganarena.features.classifier import (
    DomainClassifierFeatures,
    read_classifier_file,
    train_command,
)
from ganarena.features.classifier_training import train_domain_classifier
from ganarena.features.inception import InceptionFeatures
from ganarena.features.user_module import ModuleFeatures

log = logging.getLogger(__name__)

FEATURE_NAMES = ("domain_classifier", "inception", "module")
#: Train the classifier on the spot only for data this small (samples x values per sample).
AUTO_TRAIN_MAX_VALUES = 20_000_000


@dataclass(frozen=True)
class FeatureSpec:
    """`callbacks.metric_features`: which network gives the features, and its options."""

    name: str = "domain_classifier"
    classifier_dir: str = "data/classifiers"
    classifier_path: str | None = None
    train_if_missing: bool = True
    inception_weights_path: str | None = None
    inception_dims: int = 2048
    antialias: bool = False
    module: nn.Module | None = None
    stats_dir: str = "data/fid_stats"

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | FeatureSpec | None) -> FeatureSpec:
        if isinstance(config, FeatureSpec):
            return config
        spec = cls(**dict(config or {}))
        if spec.name not in FEATURE_NAMES:
            raise GanArenaError(
                f"unknown feature extractor '{spec.name}': set callbacks.metric_features.name "
                f"to one of {', '.join(FEATURE_NAMES)}"
            )
        return spec

    def key(self) -> tuple:
        module = None if self.module is None else id(self.module)
        return (
            self.name,
            self.classifier_path,
            self.classifier_dir,
            self.inception_weights_path,
            self.inception_dims,
            self.antialias,
            module,
        )

    def classifier_file(self, datamodule: GANDataModule) -> Path:
        if self.classifier_path:
            return Path(self.classifier_path)
        return Path(self.classifier_dir) / f"{datamodule.name}.pt"


def build_feature_extractor(spec: FeatureSpec, datamodule: GANDataModule) -> FeatureExtractor:
    """The extractor, checked against the data; `FeatureUnavailable` means "skip the metric".

    On stacked data the domain classifier is that of the grey base data, read per channel.
    """
    if spec.name == "inception":
        extractor: FeatureExtractor = InceptionFeatures(
            spec.inception_weights_path, spec.inception_dims, spec.antialias
        )
    elif spec.name == "module":
        if spec.module is None:
            raise GanArenaError(
                "metric_features.name=module needs a module: set "
                "callbacks.metric_features.module={_target_: my.package.MyNet}"
            )
        extractor = ModuleFeatures(spec.module, datamodule.sample_shape)
    elif datamodule.stacked_from is not None:
        base = datamodule.stacked_from
        extractor = ChannelwiseFeatures(DomainClassifierFeatures(ensure_classifier(spec, base)))
    else:
        extractor = DomainClassifierFeatures(ensure_classifier(spec, datamodule))
    extractor.check_data(datamodule.sample_shape, datamodule.num_classes)
    return extractor


def ensure_classifier(spec: FeatureSpec, datamodule: GANDataModule) -> Path:
    """The classifier checkpoint; trained on the spot (once, cached) for small in-memory data.

    A cached classifier that cannot be read as weights only (an old or foreign file) is
    trained again, with one line that says so; one given by `classifier_path` never is."""
    path = spec.classifier_file(datamodule)
    command = train_command(datamodule.name.split("-")[0])
    fault = "not found" if not path.is_file() else None
    if fault is None and not spec.classifier_path:
        checkpoint = read_classifier_file(path)
        fault = checkpoint if isinstance(checkpoint, str) else None
    if fault is None:
        return path  # a classifier_path that cannot be read stops when it is loaded, in one line
    if spec.classifier_path or not spec.train_if_missing:
        raise FeatureUnavailable(f"domain classifier '{path}' {fault}: train it with {command}")
    if len(datamodule.sample_shape) != 3 or not datamodule.num_classes:
        raise FeatureUnavailable(f"{datamodule.name} is not labelled image data")
    dataset = datamodule.reference_dataset
    size = len(dataset) * _values_per_sample(datamodule.sample_shape) if dataset else None
    if not isinstance(dataset, InMemoryDataset) or size is None or size > AUTO_TRAIN_MAX_VALUES:
        raise FeatureUnavailable(
            f"no domain classifier for {datamodule.name} at {path}: train it once with {command}"
        )
    if fault == "not found":
        log.info(
            "no domain classifier for %s yet: training one now and caching it at %s "
            "(to train it explicitly: %s)",
            datamodule.name,
            path,
            command,
        )
    else:
        log.warning("the cached domain classifier %s %s: training it again", path, fault)
    train_domain_classifier(datamodule, path)
    return path


def _values_per_sample(shape: tuple[int, ...]) -> int:
    count = 1
    for size in shape:
        count *= size
    return count
