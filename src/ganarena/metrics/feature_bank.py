"""One feature pass per evaluation, shared by every metric callback, and cached real features.

FID, KID, IS, precision/recall and class coverage all read the same generated samples
through the same extractor. The bank (one per data module) builds each extractor once,
embeds the real data once (and caches it on disk, keyed by data set, split, size and
extractor identity), and embeds the generated samples once per training step.
"""

from __future__ import annotations

import logging
import pickle
from pathlib import Path
from weakref import WeakKeyDictionary, ref

import torch
from torch import Tensor, nn

from ganarena.data.base import GANDataModule
from ganarena.errors import GanArenaError, load_refusal
from ganarena.features.base import FeatureExtractor, FeatureOutputs
from ganarena.features.factory import FeatureSpec, build_feature_extractor
from ganarena.ranks import barrier, rank_and_world_size, share_of
from ganarena.storage import save_atomically

log = logging.getLogger(__name__)

REAL_SPLIT = "train"  # GAN data modules serve one split: the one the GAN learns


def embed(extractor: FeatureExtractor, samples: Tensor, batch_size: int) -> FeatureOutputs:
    device = next(extractor.parameters(), torch.empty(0)).device
    parts = [extractor.extract(chunk.to(device)) for chunk in samples.split(batch_size)]
    return FeatureOutputs.concatenate(parts)


def sample_inputs(
    count: int, latent_dim: int, num_classes: int | None, seed: int
) -> tuple[Tensor, Tensor | None]:
    """The noise (and uniform labels, when conditional) that `seed` stands for.

    One function, so a metric that needs the labels asked for (conditional accuracy) draws
    exactly the ones the samples were generated with.
    """
    source = torch.Generator().manual_seed(seed)
    noise = torch.randn(count, latent_dim, generator=source)
    labels = torch.randint(num_classes, (count,), generator=source) if num_classes else None
    return noise, labels


@torch.no_grad()
def generate_samples(module: nn.Module, count: int, seed: int, batch_size: int) -> Tensor:
    """`count` samples from the inputs `seed` stands for, through `module.generate` (eval
    mode). A private generator: evaluating never changes the run's random stream.
    """
    noise, labels = sample_inputs(
        count, module.latent_dim, getattr(module, "num_classes", None), seed
    )
    label_chunks = (
        labels.split(batch_size) if labels is not None else [None] * len(noise.split(batch_size))
    )
    chunks = zip(noise.split(batch_size), label_chunks, strict=True)
    return torch.cat([module.generate(z, y) for z, y in chunks])


def rank_seed(seed: int) -> int:
    """Each rank draws different noise (seed + rank), like the training noise under gan_ddp."""
    return seed + rank_and_world_size()[0]


class FeatureBank:
    def __init__(self, datamodule: GANDataModule):
        self.datamodule = datamodule
        self._extractors: dict[tuple, FeatureExtractor] = {}
        self._real: dict[tuple, FeatureOutputs] = {}
        self._fake_key: tuple | None = None
        self._fake_owner: ref[nn.Module] | None = None
        self._fake: FeatureOutputs | None = None

    def extractor(self, spec: FeatureSpec, device: torch.device) -> FeatureExtractor:
        """Built on rank 0 first (it may train and cache a classifier), then on the others."""
        key = spec.key()
        if key not in self._extractors:
            rank, _ = rank_and_world_size()
            try:
                if rank == 0:
                    extractor = build_feature_extractor(spec, self.datamodule)
            finally:
                barrier()  # reached even when rank 0 fails: the others then fail alike
            if rank != 0:
                extractor = build_feature_extractor(spec, self.datamodule)
            self._extractors[key] = extractor.to(device)
        return self._extractors[key].to(device)

    def real(
        self, extractor: FeatureExtractor, count: int, stats_dir: str, batch_size: int
    ) -> FeatureOutputs:
        """Features of the first `count` real samples, from disk when another run made them."""
        key = (extractor.identity, count)
        if key not in self._real:
            name = f"{self.datamodule.name}-{REAL_SPLIT}-{count}-{extractor.identity}.pt"
            path = Path(stats_dir) / name
            outputs: FeatureOutputs | str = "not computed here"
            if rank_and_world_size()[0] == 0:
                outputs = self._cached_or_computed(extractor, path, count, batch_size)
            barrier()
            if isinstance(outputs, str):  # the other ranks read what rank 0 wrote
                outputs = read_cached_features(path)
            if isinstance(outputs, str):
                raise GanArenaError(f"cached real features '{path}' {outputs}: delete the file")
            self._real[key] = outputs
        return self._real[key]

    def _cached_or_computed(
        self, extractor: FeatureExtractor, path: Path, count: int, batch_size: int
    ) -> FeatureOutputs:
        """The cache at `path` when it reads as weights only; else computed and cached (an
        old or foreign file with one line that says so)."""
        cached = read_cached_features(path) if path.is_file() else None
        if isinstance(cached, FeatureOutputs):
            return cached
        samples = self.datamodule.real_samples(count)
        outputs = embed(extractor, samples, batch_size).to("cpu")
        save_atomically({"features": outputs.features, "logits": outputs.logits}, path)
        if cached is None:
            log.info("real features of %s cached in %s", self.datamodule.name, path)
        else:
            log.warning("cached real features %s %s: computed them again", path, cached)
        return outputs

    def fake(
        self,
        module: nn.Module,
        extractor: FeatureExtractor,
        total: int,
        seed: int,
        batch_size: int,
        tag: object,
    ) -> FeatureOutputs:
        """This rank's share of `total` generated samples, embedded; memoised per `tag` (step)
        for this very `module` (held weakly: an `id` can be reused once a module is freed)."""
        key = (extractor.identity, total, seed, batch_size, tag)
        owner = None if self._fake_owner is None else self._fake_owner()
        if key != self._fake_key or owner is not module:
            samples = generate_samples(module, share_of(total), rank_seed(seed), batch_size)
            self._fake_key, self._fake = key, embed(extractor, samples, batch_size)
            self._fake_owner = ref(module)
        assert self._fake is not None
        return self._fake


def read_cached_features(path: Path) -> FeatureOutputs | str:
    """Cached features read with `weights_only=True` (tensors and plain containers only, so
    a file from elsewhere cannot run code when it is loaded); or why they cannot be used."""
    try:
        stored = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError) as error:
        reason = load_refusal(error)
        return f"cannot be read as weights only, the one way that runs no code in it ({reason})"
    features = stored.get("features") if isinstance(stored, dict) else None
    logits = stored.get("logits") if isinstance(stored, dict) else None
    if not isinstance(features, Tensor) or not isinstance(logits, Tensor | None):
        return "holds no feature tensors"
    return FeatureOutputs(features, logits)


_BANKS: WeakKeyDictionary[GANDataModule, FeatureBank] = WeakKeyDictionary()


def feature_bank(datamodule: GANDataModule) -> FeatureBank:
    if datamodule not in _BANKS:
        _BANKS[datamodule] = FeatureBank(datamodule)
    return _BANKS[datamodule]
