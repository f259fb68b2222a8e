"""The `src/train_classifier.py` job: train and save the domain classifier for a data set."""

from __future__ import annotations

from pathlib import Path

import torch
from omegaconf import DictConfig

from ganarena.data.base import GANDataModule
from ganarena.features.classifier_training import ClassifierTraining, train_domain_classifier
from ganarena.training import instantiate


def train_classifier_job(cfg: DictConfig) -> tuple[Path, float]:
    datamodule: GANDataModule = instantiate(cfg.data)
    output = cfg.get("output_path") or Path(cfg.classifier_dir) / f"{datamodule.name}.pt"
    options = ClassifierTraining(**cfg.classifier)
    device = cfg.get("device") or ("cuda" if torch.cuda.is_available() else "cpu")
    return train_domain_classifier(datamodule, Path(output), options, device)
