"""Make the figures of the documentation from the code and the benchmark results.

    python docs/figures.py            # every figure into docs/images/

- `generator_gradients.png`: |dL_G/df| against the fake score f, by autograd through the
  loss classes themselves;
- `mode_collapse.png`: modes captured and high-quality share per preset, from the runs
  recorded in `benchmarks/results/mode_collapse.jsonl` (2,000 generator steps).
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch

from ganarena.losses import (
    Hinge,
    HingeNonSaturating,
    LeastSquares,
    Minimax,
    NonSaturating,
)

DOCS = Path(__file__).resolve().parent
IMAGES = DOCS / "images"
RESULTS = DOCS.parent / "benchmarks" / "results"


def generator_gradients(path: Path) -> Path:
    """One curve per loss: the weight its generator loss gives a fake of score f."""
    scores = torch.linspace(-6, 6, 241)
    losses = {
        "minimax": Minimax(),
        "nonsaturating": NonSaturating(),
        "lsgan": LeastSquares(),
        "hinge, wgan": Hinge(),
        "hinge_ns": HingeNonSaturating(),
    }
    figure, axis = plt.subplots(figsize=(6.4, 3.6), dpi=120)
    for name, loss in losses.items():
        f = scores.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(loss.generator_loss(f) * len(f), f)  # per sample
        style = "--" if name == "hinge_ns" else "-"
        axis.plot(scores, grad.abs(), style, label=name)
    axis.set_xlabel("fake score f = D(G(z))   (D rejects the fake ←   → D accepts it)")
    axis.set_ylabel("|∂L_G / ∂f| per sample")
    axis.set_ylim(0, 4)
    axis.axvline(0, color="grey", lw=0.5)
    axis.legend(frameon=False)
    axis.set_title("How hard each generator loss pushes one fake")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def mode_collapse(path: Path, steps: int = 2000) -> Path:
    """Grouped bars: modes captured (of 8 and 25) and high-quality share, mean over seeds."""
    records = [
        json.loads(line)
        for line in (RESULTS / "mode_collapse.jsonl").read_text().splitlines()
        if line.strip()
    ]
    records = [r for r in records if r["steps"] == steps]
    losses = list(dict.fromkeys(r["loss"] for r in records))
    figure, axes = plt.subplots(2, 1, figsize=(8, 5.5), dpi=120, sharex=True)
    width = 0.38
    mixtures = [("ring", 8), ("grid", 25)]
    for offset, (data, modes) in zip((-width / 2, width / 2), mixtures, strict=True):
        mean_modes, mean_quality = [], []
        for loss in losses:
            runs = [r for r in records if r["loss"] == loss and r["data"] == data]
            mean_modes.append(statistics.fmean(r["modes"] / modes for r in runs))
            mean_quality.append(statistics.fmean(100 * r["high_quality"] for r in runs))
        positions = [i + offset for i in range(len(losses))]
        axes[0].bar(positions, mean_modes, width, label=f"{data} (of {modes})")
        axes[1].bar(positions, mean_quality, width, label=data)
    axes[0].set_ylabel("share of modes captured")
    axes[0].set_ylim(0, 1.3)
    axes[1].set_ylabel("% high-quality samples")
    axes[1].set_xticks(range(len(losses)), losses, rotation=45, ha="right")
    axes[0].legend(frameon=False, ncol=2, loc="upper center")
    axes[0].set_title(f"Mode collapse, {steps:,} generator steps, mean of 3 seeds")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def main() -> None:
    IMAGES.mkdir(exist_ok=True)
    for made in (
        generator_gradients(IMAGES / "generator_gradients.png"),
        mode_collapse(IMAGES / "mode_collapse.png"),
    ):
        print(made)


if __name__ == "__main__":
    main()
