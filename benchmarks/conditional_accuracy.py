"""Conditional accuracy of `concat`, `projection` and `acgan` on digits at one fixed budget.

Each method trains with the default loss through `python src/train.py` (real Hydra, real
callbacks) for the same number of epochs; the domain classifier then judges 10,000 samples
generated for uniformly drawn classes: the share it puts in the asked class is the
conditional accuracy (chance 10%). Run: `python benchmarks/conditional_accuracy.py
[--epochs 40] [--seeds 1 2 3]`; writes `benchmarks/results/conditional_accuracy.md`.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
METHODS = ["concat", "projection", "acgan"]


def final_accuracy(run_dir: Path) -> float:
    with open(run_dir / "csv" / "metrics.csv") as handle:
        values = [row["val/conditional_accuracy"] for row in csv.DictReader(handle)]
    return float([v for v in values if v][-1])


def run(method: str, seed: int, epochs: int, workdir: Path) -> float:
    run_dir = workdir / f"{method}-{seed}"
    command = [
        sys.executable,
        "src/train.py",
        f"conditioning={method}",
        f"seed={seed}",
        f"trainer.max_epochs={epochs}",
        "logger=csv",
        "~callbacks.rich_progress_bar",
        "+trainer.enable_progress_bar=false",
        "callbacks.conditional_accuracy.every_n_steps=0",
        "callbacks.fid.every_n_steps=0",
        "callbacks.class_coverage.every_n_steps=0",
        f"hydra.run.dir={run_dir}",
    ]
    env = {**os.environ, "WANDB_MODE": "disabled"}
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, env=env)
    return final_accuracy(run_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    lines = [
        f"Digits, default loss (nonsaturating), {args.epochs} epochs "
        f"({args.epochs * 28} training steps), seeds {args.seeds}; "
        f"{platform.machine()} CPU, torch threads from OMP_NUM_THREADS",
        "",
        "| conditioning | conditional accuracy (mean ± std) | runs |",
        "|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as workdir:
        for method in METHODS:
            scores = [run(method, seed, args.epochs, Path(workdir)) for seed in args.seeds]
            std = statistics.stdev(scores) if len(scores) > 1 else 0.0
            listed = ", ".join(f"{100 * s:.1f}" for s in scores)
            mean = 100 * statistics.fmean(scores)
            lines.append(f"| `{method}` | {mean:.1f}% ± {100 * std:.1f} | {listed} |")
            print(lines[-1], flush=True)
    out = ROOT / "benchmarks" / "results" / "conditional_accuracy.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
