"""The evaluation job (`src/eval.py`): a checkpoint's configured metrics, a grid, samples.

The module and the metric callbacks are rebuilt from the run's own config, stored in the
checkpoint, so the figures are those training logged: same features, same cached real
statistics, same noise (each callback's seed), same numbers.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from hydra.utils import get_class
from omegaconf import DictConfig, OmegaConf

from ganarena.callbacks.measurement import ScheduledMeasurement
from ganarena.checkpoints import read_checkpoint
from ganarena.data.base import GANDataModule
from ganarena.gan_module import GANModule
from ganarena.metrics.feature_bank import generate_samples
from ganarena.training import build_module, instantiate
from ganarena.visualize import save_image_grid, save_scatter

log = logging.getLogger(__name__)


def load_checkpoint(path: str) -> dict[str, Any]:
    return read_checkpoint(Path(path))


def run_config(checkpoint: dict[str, Any]) -> DictConfig:
    """The resolved configuration the run logged (`ganarena.run_record.describe_run`)."""
    return OmegaConf.create(checkpoint["hyper_parameters"]["config"])


def metric_callbacks(config: DictConfig) -> list[ScheduledMeasurement]:
    """The run's measurement callbacks (FID, KID, ...), rebuilt from its config."""
    callbacks = []
    for node in (config.get("callbacks") or {}).values():
        if isinstance(node, DictConfig) and "_target_" in node:
            target = get_class(node._target_)
            if isinstance(target, type) and issubclass(target, ScheduledMeasurement):
                callbacks.append(instantiate(node))
    return callbacks


def restore_module(checkpoint: dict[str, Any], datamodule: GANDataModule) -> GANModule:
    module = build_module(run_config(checkpoint), datamodule)
    module.load_state_dict(checkpoint["state_dict"])
    return module.eval()


def measure_all(
    callbacks: list[ScheduledMeasurement], module: GANModule, datamodule: GANDataModule
) -> tuple[dict[str, float], dict[str, Any]]:
    values: dict[str, float] = {}
    settings: dict[str, Any] = {}
    for callback in callbacks:
        if callback.try_prepare(module, datamodule):
            measured = callback.measure(module, datamodule, tag="eval")
            values.update({k: v for k, v in measured.items() if not k.endswith("_best")})
            settings[callback.label] = callback.describe()
    return values, settings


def save_pictures(
    module: GANModule, datamodule: GANDataModule, output_dir: Path, seed: int
) -> Path:
    shape = datamodule.sample_shape
    count = 64 if len(shape) == 3 else 2_500
    samples = generate_samples(module, count, seed, 1024)
    path = output_dir / "samples.png"
    if len(shape) == 3:
        return save_image_grid(samples, path, nrow=8)
    real = datamodule.real_samples(min(count, datamodule.num_reference_samples))
    return save_scatter(samples, real, path, means=getattr(datamodule, "means", None))


def save_samples(module: GANModule, count: int, seed: int, path: Path) -> Path:
    """`samples` as generated; for images also `images`, uint8 NHWC (readable by data=array)."""
    samples = generate_samples(module, count, seed, 1024).float().cpu()
    arrays = {"samples": samples.numpy()}
    if samples.dim() == 4:
        pixels = samples.clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8)
        arrays["images"] = pixels.permute(0, 2, 3, 1).squeeze(-1).numpy()
    np.savez_compressed(path, **arrays)
    return path


def evaluate(cfg: DictConfig) -> dict[str, Any]:
    """Metrics JSON, a sample grid and optionally the samples, in `cfg.paths.output_dir`."""
    checkpoint = load_checkpoint(cfg.ckpt_path)
    config = run_config(checkpoint)
    datamodule: GANDataModule = instantiate(config.data)
    datamodule.prepare_data()
    datamodule.setup("fit")
    module = restore_module(checkpoint, datamodule)
    if cfg.get("device"):
        module.to(cfg.device)
    callbacks = metric_callbacks(config)
    for callback in callbacks:
        if cfg.get("num_samples") and hasattr(callback, "num_samples"):
            if getattr(callback, "num_real_samples", 0) is None:
                callback.num_real_samples = callback.num_samples  # the real set training used
            callback.num_samples = int(cfg.num_samples)
        if cfg.get("seed") is not None:
            callback.seed = int(cfg.seed)
    values, settings = measure_all(callbacks, module, datamodule)
    output_dir = Path(cfg.paths.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    seed = int(cfg.seed) if cfg.get("seed") is not None else 1234
    report = {
        "checkpoint": str(Path(cfg.ckpt_path).resolve()),
        "global_step": checkpoint.get("global_step"),
        "data": datamodule.name,
        "loss": checkpoint["hyper_parameters"].get("loss", config.loss._target_),
        "metrics": values,
        "settings": settings,
        "grid": str(save_pictures(module, datamodule, output_dir, seed)),
    }
    if cfg.get("save_npz"):
        count = int(cfg.get("num_samples") or 10_000)
        report["samples"] = str(save_samples(module, count, seed, output_dir / "samples.npz"))
    (output_dir / "metrics.json").write_text(json.dumps(report, indent=2, default=str))
    log.info("metrics %s written to %s", json.dumps(values), output_dir / "metrics.json")
    return report
