"""Evaluate a checkpoint: `python src/eval.py ckpt_path=logs/train/runs/<run>/.../last.ckpt`.

A thin Hydra entry point; the job itself is `ganarena.evaluation.evaluate`. Writes
`metrics.json`, `samples.png` (and `samples.npz` with save_npz=true) to logs/eval/runs/<time>/.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from ganarena.config import CONFIG_DIR, register_resolvers
from ganarena.errors import GanArenaError
from ganarena.evaluation import evaluate

log = logging.getLogger("ganarena")

os.environ.setdefault("GANARENA_ROOT", str(Path(__file__).resolve().parents[1]))


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="eval")
def main(cfg: DictConfig) -> None:
    try:
        evaluate(cfg)
    except GanArenaError as error:
        log.error("error: %s", error)
        sys.exit(2)


if __name__ == "__main__":
    register_resolvers()
    main()
