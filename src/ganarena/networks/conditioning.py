"""How labels enter the networks: the building blocks of the three conditioning methods.

- `concat` (Mirza & Osindero 2014): a one-hot label joins G's noise and D's input (as extra
  constant channels for images).
- `projection` (Miyato & Koyama 2018): D adds <embed(y), φ(x)> to its score; G's batch norms
  take a per-class scale and shift (conditional batch norm).
- `acgan` (Odena et al. 2017): G as with `concat`; D gets an auxiliary classifier head.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganarena.errors import GanArenaError
from ganarena.options import require_choice

CONDITIONINGS = ("none", "concat", "projection", "acgan")
PROJECTION_INIT_STD = 0.02


def check_conditioning(method: str, num_classes: int | None) -> str:
    """A valid method with the labels it needs, or a one-line error naming the fix."""
    require_choice("conditioning", method, CONDITIONINGS)
    if method != "none" and not num_classes:
        raise GanArenaError(
            f"conditioning={method} needs labelled data, but this data set has no labels: "
            "use conditioning=none or a labelled data set (digits, mnist, image_folder with "
            "class sub-folders, array with labels)"
        )
    return method


def generator_label_features(method: str, num_classes: int | None) -> int:
    """Extra inputs that G's first layer takes beside z: the one-hot label for concat/acgan."""
    return num_classes if method in {"concat", "acgan"} and num_classes else 0


def discriminator_label_channels(method: str, num_classes: int | None) -> int:
    """Extra input channels (or features) of D: the one-hot label, for concat only."""
    return num_classes if method == "concat" and num_classes else 0


def one_hot(labels: Tensor, num_classes: int, like: Tensor) -> Tensor:
    return F.one_hot(labels, num_classes).to(like.dtype)


def join_label(inputs: Tensor, labels: Tensor | None, num_classes: int) -> Tensor:
    """Append the one-hot label to a (N, F) tensor, or as constant planes to (N, C, H, W)."""
    if labels is None:
        raise GanArenaError("a conditional network was called without labels: pass labels")
    code = one_hot(labels, num_classes, inputs)
    if inputs.dim() == 4:
        code = code[:, :, None, None].expand(-1, -1, *inputs.shape[2:])
    return torch.cat([inputs, code], dim=1)


class ConditionalBatchNorm(nn.Module):
    """Batch norm whose scale and shift are looked up per class (de Vries et al. 2017).

    Scales start at 1 and shifts at 0, so an untrained network behaves like plain batch norm.
    """

    def __init__(self, num_features: int, num_classes: int, spatial: bool = True) -> None:
        super().__init__()
        norm = nn.BatchNorm2d if spatial else nn.BatchNorm1d
        self.norm = norm(num_features, affine=False)
        self.scale = nn.Embedding(num_classes, num_features)
        self.shift = nn.Embedding(num_classes, num_features)
        nn.init.ones_(self.scale.weight)
        nn.init.zeros_(self.shift.weight)

    def forward(self, x: Tensor, labels: Tensor) -> Tensor:
        scale, shift = self.scale(labels), self.shift(labels)
        if x.dim() == 4:
            scale, shift = scale[:, :, None, None], shift[:, :, None, None]
        return self.norm(x) * scale + shift


class ConditionedGenerator(nn.Module):
    """What every generator does with labels: its settings, and the input z joined with the
    one-hot label for concat and AC-GAN (projection enters through its batch norms)."""

    def set_conditioning(self, method: str, num_classes: int | None) -> None:
        self.conditioning = check_conditioning(method, num_classes)
        self.num_classes = num_classes if method != "none" else None
        self.label_features = generator_label_features(method, num_classes)

    def latent_input(self, z: Tensor, labels: Tensor | None) -> Tensor:
        return join_label(z, labels, self.label_features) if self.label_features else z


class ScoringDiscriminator(nn.Module):
    """`forward` and `score_and_classify` for any D that implements `score_and_features`,
    and what every D does with labels: extra input planes for concat (`labelled_input`), a
    projection term or class logits on its features (`label_head`)."""

    label_head: LabelHead

    def set_conditioning(self, method: str, num_classes: int | None) -> None:
        self.conditioning = check_conditioning(method, num_classes)
        self.num_classes = num_classes if method != "none" else None
        self.label_channels = discriminator_label_channels(method, num_classes)

    def labelled_input(self, x: Tensor, labels: Tensor | None) -> Tensor:
        return join_label(x, labels, self.label_channels) if self.label_channels else x

    def score_from(self, features: Tensor, score: nn.Module, labels: Tensor | None) -> Tensor:
        """The score of flat `features`: the linear `score` plus the projection term."""
        return score(features).squeeze(1) + self.label_head.project(features, labels)

    def score_and_features(self, x: Tensor, labels: Tensor | None) -> tuple[Tensor, Tensor]:
        """The score and the flat features; by default from the subclass's `features` body
        and linear `score` head (DCGAN, standard CNN, InfoGAN)."""
        features = torch.flatten(self.features(self.labelled_input(x, labels)), 1)
        return self.score_from(features, self.score, labels), features

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        """Raw scores (logits or critic values, never squashed) of shape (N,)."""
        return self.score_and_features(x, labels)[0]

    def score_and_classify(self, x: Tensor, labels: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Scores and the auxiliary classifier's logits from one pass (conditioning=acgan)."""
        scores, features = self.score_and_features(x, labels)
        return scores, self.label_head.class_logits(features)


class LabelHead(nn.Module):
    """What D does with labels on top of its features: projection term or class logits."""

    def __init__(self, method: str, num_features: int, num_classes: int | None) -> None:
        super().__init__()
        self.method = method
        self.embed = nn.Embedding(num_classes, num_features) if method == "projection" else None
        self.classify = nn.Linear(num_features, num_classes) if method == "acgan" else None
        if self.embed is not None:
            # As small as the score layer's weights: an N(0, 1) embedding summed over
            # hundreds of features would drown the unconditional score at the start.
            nn.init.normal_(self.embed.weight, 0.0, PROJECTION_INIT_STD)

    def project(self, features: Tensor, labels: Tensor | None) -> Tensor | float:
        """<embed(y), φ(x)> per sample for projection; 0 otherwise."""
        if self.embed is None:
            return 0.0
        if labels is None:
            raise GanArenaError("a projection discriminator was called without labels")
        return (self.embed(labels) * features).sum(dim=1)

    def class_logits(self, features: Tensor) -> Tensor:
        if self.classify is None:
            raise GanArenaError("class logits need conditioning=acgan")
        return self.classify(features)


class UnconditionalBatchNorm(nn.Module):
    """Plain batch norm with the conditional one's signature, so that G's blocks call any norm
    the same way; `labels` are accepted and ignored."""

    def __init__(self, num_features: int, spatial: bool = True) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(num_features) if spatial else nn.BatchNorm1d(num_features)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.norm(x)


def generator_norm(
    method: str, num_features: int, num_classes: int | None, spatial: bool = True
) -> nn.Module:
    """Conditional batch norm for projection, plain batch norm otherwise."""
    if method == "projection" and num_classes:
        return ConditionalBatchNorm(num_features, num_classes, spatial)
    return UnconditionalBatchNorm(num_features, spatial)
