"""Train the domain classifier of a labelled data set: `python src/train_classifier.py data=digits`.

Its penultimate layer gives FID/KID/precision-recall features and its logits IS and class
coverage. Saved to data/classifiers/<data name>.pt, where the metric callbacks look for it.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from ganarena.config import CONFIG_DIR, check_group_choices, register_resolvers
from ganarena.errors import GanArenaError
from ganarena.features.classifier_job import train_classifier_job

log = logging.getLogger("ganarena")

os.environ.setdefault("GANARENA_ROOT", str(Path(__file__).resolve().parents[1]))


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="train_classifier")
def main(cfg: DictConfig) -> None:
    try:
        train_classifier_job(cfg)
    except GanArenaError as error:
        log.error("error: %s", error)
        sys.exit(2)


if __name__ == "__main__":
    register_resolvers()
    try:
        check_group_choices(sys.argv[1:])
    except GanArenaError as error:
        sys.exit(f"error: {error}")
    main()
