"""Augmentation of everything D sees: DiffAugment's policies and ADA's adaptive probability.

An augmentation is a module `images -> images`, differentiable, drawn per sample; the GAN
module applies it to every input of D (reals and fakes, in the D and the G step), and
penalties differentiate through it, so their gradients are taken with respect to the images
before augmentation. `observe(real_scores)` lets an adaptive one (ADA) follow D.
"""

from ganarena.augment.adaptive import AdaptiveAugment
from ganarena.augment.diffaugment import POLICIES, Augment, DiffAugment

__all__ = ["POLICIES", "AdaptiveAugment", "Augment", "DiffAugment"]
