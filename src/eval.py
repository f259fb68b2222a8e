"""Evaluate a checkpoint: `python src/eval.py ckpt_path=logs/train/runs/<run>/.../last.ckpt`.

A thin Hydra entry point; the job itself is `ganarena.evaluation.evaluate`. Writes
`metrics.json`, `samples.png` (and `samples.npz` with save_npz=true) to logs/eval/runs/<time>/.
"""

from ganarena.cli import run_job
from ganarena.evaluation import evaluate

if __name__ == "__main__":
    run_job(evaluate, config_name="eval")
