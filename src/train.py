"""Train a GAN: `python src/train.py loss=lsgan data=mnist trainer.devices=4`.

A thin Hydra entry point; the job itself is `ganarena.training.train`.
"""

from ganarena.cli import run_job
from ganarena.training import train

if __name__ == "__main__":
    run_job(train, config_name="train")
