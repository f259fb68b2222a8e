"""GAN losses as strategy objects behind one interface (`GANLoss`), and the parts they take.

Losses: `Minimax`, `NonSaturating`, `LeastSquares`, `Wasserstein`, `Hinge`,
`HingeNonSaturating`, `RelativisticAverage`, `RelativisticPairing`,
`RelativisticAverageHinge`, `FDivergence` (the f-GAN family), `BEGAN`. Penalties (added to
the D loss): `GradientPenalty` (two- or one-sided), `DRAGANPenalty`, `R1Penalty`, `R2Penalty`.
`MaxGradientPenalty`, `LeCam`, `Consistency` (CR, bCR), `LatentConsistency` (zCR, which also
adds a term to G's loss) and `Lazy` (any penalty every k steps).
Constraints (applied to D after each D step): `WeightClipping`.
"""

from ganarena.losses.base import Constraint, Critic, GANLoss, Latents, Penalty
from ganarena.losses.bce import Minimax, NonSaturating
from ganarena.losses.began import BEGAN
from ganarena.losses.constraints import WeightClipping
from ganarena.losses.fgan import FDivergence
from ganarena.losses.hinge import Hinge, HingeNonSaturating
from ganarena.losses.least_squares import LeastSquares
from ganarena.losses.penalties import (
    DRAGANPenalty,
    GradientNormPenalty,
    GradientPenalty,
    MaxGradientPenalty,
    R1Penalty,
    R2Penalty,
)
from ganarena.losses.regularizers import Consistency, LatentConsistency, Lazy, LeCam
from ganarena.losses.relativistic import (
    RelativisticAverage,
    RelativisticAverageHinge,
    RelativisticPairing,
)
from ganarena.losses.wasserstein import Wasserstein

__all__ = [
    "BEGAN",
    "Consistency",
    "Constraint",
    "Critic",
    "DRAGANPenalty",
    "FDivergence",
    "GANLoss",
    "GradientNormPenalty",
    "GradientPenalty",
    "Hinge",
    "HingeNonSaturating",
    "LatentConsistency",
    "Latents",
    "Lazy",
    "LeCam",
    "LeastSquares",
    "MaxGradientPenalty",
    "Minimax",
    "NonSaturating",
    "Penalty",
    "R1Penalty",
    "R2Penalty",
    "RelativisticAverage",
    "RelativisticAverageHinge",
    "RelativisticPairing",
    "Wasserstein",
    "WeightClipping",
]
