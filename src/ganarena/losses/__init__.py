"""GAN losses as strategy objects behind one interface (`GANLoss`)."""

from ganarena.losses.base import Constraint, Critic, GANLoss, Penalty
from ganarena.losses.bce import Minimax, NonSaturating

__all__ = ["Constraint", "Critic", "GANLoss", "Minimax", "NonSaturating", "Penalty"]
