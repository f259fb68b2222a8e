"""Train a GAN: `python src/train.py loss=lsgan data=mnist trainer.devices=4`.

A thin Hydra entry point; the job itself is `ganarena.training.train`.
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
from ganarena.training import train

log = logging.getLogger("ganarena")

# Paths in the configs are relative to the repository, wherever the command is run from.
os.environ.setdefault("GANARENA_ROOT", str(Path(__file__).resolve().parents[1]))


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="train")
def main(cfg: DictConfig) -> float | None:
    try:
        return train(cfg)
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
