"""Is resume exact? A run of N training steps against the same run stopped at S and resumed.

Both are real `python src/train.py` runs (default callbacks, CSV logger, CPU); the resumed one
continues in its own directory with `resume=auto`. The script prints the largest difference
between the two final checkpoints, over every tensor of G, D, the weight average and the loss
state, and over every optimizer state: 0.0 means bit-identical.

    python benchmarks/resume_equality.py                         # stop mid-epoch (step 14 of 28)
    python benchmarks/resume_equality.py --stop 28               # on an epoch boundary
    python benchmarks/resume_equality.py --processes 2 --stop 7  # two DDP processes (gloo)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

REPO = Path(__file__).resolve().parents[1]
QUICK = [
    "logger=csv",
    "trainer.accelerator=cpu",
    "~callbacks.rich_progress_bar",
    "+trainer.enable_progress_bar=false",
    "callbacks.fid.num_samples=500",
    "callbacks.class_coverage.num_samples=500",
    "callbacks.fid.every_n_steps=10",
    "callbacks.class_coverage.every_n_steps=10",
    # A stop by a shorter train_steps is another plan for a schedule that decays over the run
    # (the tuned default's): ~tuned keeps the learning rate constant, as tests/test_resume.py does.
    "~tuned",
]


def train(run_dir: Path, *overrides: str) -> None:
    command = [sys.executable, "src/train.py", *QUICK, *overrides, f"hydra.run.dir={run_dir}"]
    env = {**os.environ, "WANDB_MODE": "disabled", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"training failed:\n{result.stderr[-3000:]}")


def tensors(value: Any, prefix: str = "") -> Iterator[tuple[str, torch.Tensor]]:
    """Every tensor in a nested checkpoint structure, by its path."""
    if isinstance(value, torch.Tensor):
        yield prefix, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from tensors(item, f"{prefix}/{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from tensors(item, f"{prefix}/{index}")


def largest_difference(first: Path, second: Path) -> tuple[float, int]:
    """max |a - b| over the model state and the optimizer states, and how many tensors."""
    a, b = (torch.load(path, map_location="cpu", weights_only=True) for path in (first, second))
    assert a["global_step"] == b["global_step"], (a["global_step"], b["global_step"])
    left = dict(tensors({"model": a["state_dict"], "optimizers": a["optimizer_states"]}))
    right = dict(tensors({"model": b["state_dict"], "optimizers": b["optimizer_states"]}))
    assert left.keys() == right.keys()
    gaps = [
        (left[k].double() - right[k].double()).abs().max().item() for k in left if left[k].numel()
    ]
    return max(gaps), len(left)


def compare(steps: int, stop: int, processes: int, folder: Path, extra: list[str]) -> float:
    common = [f"trainer=ddp_cpu trainer.devices={processes}".split()] if processes > 1 else [[]]
    common = [*common[0], *extra]
    whole, resumed = folder / "whole", folder / "resumed"
    train(whole, f"train_steps={steps}", *common)
    train(resumed, f"train_steps={stop}", *common)
    train(resumed, f"train_steps={steps}", "resume=auto", *common)
    gap, count = largest_difference(
        whole / "checkpoints/last.ckpt", resumed / "checkpoints/last.ckpt"
    )
    print(
        f"{steps} training steps against {stop} + resume to {steps}, {processes} process(es):"
        f" largest difference over {count} tensors = {gap}"
    )
    return gap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--stop", type=int, default=14)
    parser.add_argument("--processes", type=int, default=1, choices=[1, 2])
    parser.add_argument("overrides", nargs="*", help="more overrides for all three runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        gap = compare(args.steps, args.stop, args.processes, Path(folder), args.overrides)
    sys.exit(0 if gap == 0.0 else 1)


if __name__ == "__main__":
    main()
