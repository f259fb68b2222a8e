"""Make the figures of the documentation from the code and the benchmark results.

    python docs/figures.py            # every figure into docs/images/

- `generator_gradients.png`: |dL_G/df| against the fake score f, by autograd through the
  loss classes themselves.

The figures of the studies are the report's own (`src/report.py`), in `docs/studies/`.
"""

from __future__ import annotations

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


def main() -> None:
    IMAGES.mkdir(exist_ok=True)
    for made in (generator_gradients(IMAGES / "generator_gradients.png"),):
        print(made)


if __name__ == "__main__":
    main()
