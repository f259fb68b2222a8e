"""The standard Inception-V3 of FID (torch-fidelity's port of the TF 2015-12-05 graph).

Offline it needs a local weights file; the classic TF-compatible resize is the default so
that figures compare with published ones (torchmetrics >= 1.8 antialiases by default,
which shifts FID).
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ganarena.compat import inception_features_and_logits
from ganarena.errors import load_refusal
from ganarena.features.base import FeatureExtractor, FeatureOutputs, FeatureUnavailable, file_digest

INCEPTION_WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth"
INCEPTION_DIMS = (64, 192, 768, 2048)
INCEPTION_CLASSES = 1008
OFFLINE_HINT = (
    "set callbacks.metric_features.inception_weights_path=/path/to/"
    f"{INCEPTION_WEIGHTS_FILE}, or use the domain classifier "
    "(callbacks.metric_features.name=domain_classifier), which works offline"
)


def to_inception_input(images: Tensor) -> Tensor:
    """[-1, 1] floats to the uint8 RGB the TF graph expects; grey images are repeated."""
    pixels = images.float().add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8)
    return pixels.expand(-1, 3, -1, -1) if pixels.shape[1] == 1 else pixels


class InceptionFeatures(FeatureExtractor):
    """Pool features (`dims`) and the unbiased logits (for IS) of torch-fidelity's Inception."""

    num_classes = INCEPTION_CLASSES

    def __init__(self, weights_path: str | None = None, dims: int = 2048, antialias: bool = False):
        super().__init__()
        if dims not in INCEPTION_DIMS:
            raise FeatureUnavailable(
                f"inception_dims={dims} is not an Inception layer: choose one of {INCEPTION_DIMS}"
            )
        if weights_path is not None and not Path(weights_path).is_file():
            raise FeatureUnavailable(
                f"Inception weights '{weights_path}' not found: {OFFLINE_HINT}"
            )
        self.network = load_inception(dims, weights_path, antialias)
        self.num_features = dims
        self.antialias = antialias
        weights = "tf-2015-12-05" if weights_path is None else file_digest(weights_path)
        resize = "antialias" if antialias else "tf-resize"
        self.identity = f"inception{dims}-{resize}-{weights}"

    @torch.no_grad()
    def extract(self, images: Tensor) -> FeatureOutputs:
        features, logits = inception_features_and_logits(self.network, to_inception_input(images))
        return FeatureOutputs(features.reshape(len(images), -1).float(), logits.float())

    def check_data(self, sample_shape: tuple[int, ...], num_classes: int | None) -> None:
        if len(sample_shape) != 3 or sample_shape[0] not in (1, 3):
            raise FeatureUnavailable(
                f"Inception reads grey or RGB images, not samples of shape {sample_shape}"
            )

    def describe(self) -> dict[str, Any]:
        resize = "antialiased bilinear" if self.antialias else "TF-compatible bilinear"
        return {**super().describe(), "resize": resize}


def load_inception(dims: int, weights_path: str | None, antialias: bool) -> torch.nn.Module:
    """torchmetrics' never-training Inception; a failed download becomes one clear line.

    torch-fidelity reads a weights file with `weights_only=False`, which would run any code a
    file from elsewhere holds: a file given by path (or already in torch's hub cache) is read
    here first with `weights_only=True`, and those same checked bytes are what it loads."""
    from torchmetrics.image.fid import NoTrainInceptionV3

    source = weights_path or cached_inception_weights()
    try:
        return NoTrainInceptionV3(
            name="inception-v3-compat",
            features_list=[str(dims), "logits_unbiased"],
            feature_extractor_weights_path=None if source is None else checked_weights(source),
            antialias=antialias,
        )
    except (OSError, RuntimeError, pickle.UnpicklingError) as error:  # no network, a bad file
        reason = load_refusal(error)
        where = "download failed" if source is None else f"cannot load '{source}'"
        raise FeatureUnavailable(
            f"no Inception weights ({where}: {reason}): {OFFLINE_HINT}"
        ) from error


def cached_inception_weights() -> str | None:
    """The weights torch-fidelity downloaded into torch's hub cache earlier, if any."""
    path = Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_WEIGHTS_FILE
    return str(path) if path.is_file() else None


def checked_weights(path: str) -> io.BytesIO:
    """The file's bytes, once `torch.load(..., weights_only=True)` has read them: tensors and
    plain containers only (UnpicklingError otherwise, before any code in it could run)."""
    data = Path(path).read_bytes()
    torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    return io.BytesIO(data)
