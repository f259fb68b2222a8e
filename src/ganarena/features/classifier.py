"""The domain classifier: a small CNN trained on the GAN's own labelled data.

Inception features mean little on 8x8 or 28x28 grey digits, and cannot be downloaded here;
the standard for MNIST-like data is a classifier of the domain. Its penultimate layer gives
FID/KID/precision-recall features, its logits give IS and class coverage.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ganarena.errors import GanArenaError, load_refusal
from ganarena.features.base import FeatureExtractor, FeatureOutputs, file_digest
from ganarena.storage import save_atomically

CHECKPOINT_FORMAT = "ganarena-domain-classifier-1"


def train_command(data: str = "NAME") -> str:
    """The command that trains the domain classifier of `data` (a `data=` option)."""
    return f"python src/train_classifier.py data={data}"


class DomainClassifierNet(nn.Module):
    """Conv stages that halve the image down to 4x4 or less, then features, then logits."""

    def __init__(
        self,
        sample_shape: tuple[int, ...],
        num_classes: int,
        width: int = 32,
        feature_dim: int = 128,
    ):
        super().__init__()
        channels, height, _ = sample_shape
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, padding=1), nn.LeakyReLU(0.2)]
        size, current = height, width
        while size > 4 or current == width:
            following = min(current * 2, 256)
            layers += [nn.Conv2d(current, following, 3, stride=2, padding=1), nn.LeakyReLU(0.2)]
            size, current = (size + 1) // 2, following
        layers += [
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(current, feature_dim),
            nn.ReLU(),
        ]
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(feature_dim, num_classes)

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        features = self.body(images)
        return features, self.head(features)


class DomainClassifierFeatures(FeatureExtractor):
    """A trained `DomainClassifierNet` loaded from its checkpoint, never training."""

    def __init__(self, path: str | Path):
        super().__init__()
        self.path = Path(path)
        checkpoint = load_classifier_checkpoint(self.path)
        self.data_name: str = checkpoint["data_name"]
        self.sample_shape = tuple(checkpoint["sample_shape"])
        self.num_classes = int(checkpoint["num_classes"])
        self.test_accuracy = float(checkpoint.get("test_accuracy", float("nan")))
        self.network = DomainClassifierNet(self.sample_shape, self.num_classes, **checkpoint["net"])
        self.network.load_state_dict(checkpoint["state_dict"])
        self.network.eval().requires_grad_(False)
        self.num_features = self.network.head.in_features
        self.identity = f"classifier-{self.data_name}-{file_digest(str(self.path))}"

    @torch.no_grad()
    def extract(self, images: Tensor) -> FeatureOutputs:
        features, logits = self.network(images.float())
        return FeatureOutputs(features, logits)

    def check_data(self, sample_shape: tuple[int, ...], num_classes: int | None) -> None:
        retrain = train_command()
        if tuple(sample_shape) != self.sample_shape:
            raise GanArenaError(
                f"domain classifier '{self.path}' reads samples of shape {self.sample_shape} but "
                f"the data has {tuple(sample_shape)}: train one for this data ({retrain}) or set "
                "callbacks.metric_features.classifier_path"
            )
        if num_classes is not None and num_classes != self.num_classes:
            raise GanArenaError(
                f"domain classifier '{self.path}' has {self.num_classes} classes but the data has "
                f"{num_classes}: train one for this data ({retrain}) or set "
                "callbacks.metric_features.classifier_path"
            )

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "classifier_path": str(self.path),
            "classifier_data": self.data_name,
            "classifier_test_accuracy": self.test_accuracy,
        }


def read_classifier_file(path: Path) -> dict[str, Any] | str:
    """The classifier's state dict and metadata, read with `weights_only=True` (tensors and
    plain containers only, so a file from elsewhere cannot run code when it is loaded); or,
    when the file cannot serve, why not (a phrase that follows its name)."""
    if not path.is_file():
        return "not found"
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as error:
        reason = load_refusal(error)
        return f"cannot be read as weights only, the one way that runs no code in it ({reason})"
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        return "is not a gan-arena domain classifier"
    return checkpoint


def load_classifier_checkpoint(path: Path) -> dict[str, Any]:
    """`read_classifier_file`, or one line that names the file, the fault and the fix."""
    checkpoint = read_classifier_file(path)
    if isinstance(checkpoint, str):
        raise GanArenaError(
            f"domain classifier '{path}' {checkpoint}: train one with {train_command()}"
        )
    return checkpoint


def save_classifier_checkpoint(
    path: Path,
    network: DomainClassifierNet,
    data_name: str,
    sample_shape: tuple[int, ...],
    net_options: dict[str, int],
    test_accuracy: float,
) -> Path:
    """Write atomically (another rank or run may be reading the same cache path): the state
    dict and plain metadata (str, int, float, lists and dicts of them), which `torch.load`
    reads with `weights_only=True`."""
    checkpoint = {
        "format": CHECKPOINT_FORMAT,
        "state_dict": network.state_dict(),
        "data_name": str(data_name),
        "sample_shape": [int(size) for size in sample_shape],
        "num_classes": int(network.head.out_features),
        "net": {str(key): int(value) for key, value in net_options.items()},
        "test_accuracy": float(test_accuracy),
    }
    return save_atomically(checkpoint, path)
