"""The training job: build everything the composed config names, fit, report."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate as hydra_instantiate
from omegaconf import DictConfig, OmegaConf

from ganarena.conditioning import Conditioning
from ganarena.data.base import GANDataModule
from ganarena.errors import GanArenaError
from ganarena.gan_module import GANModule

log = logging.getLogger(__name__)

NONE = "ganarena.conditioning.Conditioning"


def instantiate(config: Any, **kwargs: Any) -> Any:
    """Hydra's instantiate, letting a constructor's GanArenaError through as itself.

    Hydra wraps every constructor error in an InstantiationException with a long message;
    a user-fixable error must stay one line.
    """
    try:
        return hydra_instantiate(config, **kwargs)
    except InstantiationException as error:
        if isinstance(error.__cause__, GanArenaError):
            raise error.__cause__ from None
        raise


def build_module(cfg: DictConfig, datamodule: GANDataModule) -> GANModule:
    """The GAN, with networks shaped by the data and optimizers from the loss preset."""
    shape = datamodule.sample_shape
    conditioning: Conditioning = instantiate(cfg.get("conditioning") or {"_target_": NONE})
    conditioning.bind(datamodule.num_classes)
    network_options = {
        "data_shape": shape,
        "num_classes": conditioning.num_classes,
        "conditioning": conditioning.method,
    }
    generator = instantiate(cfg.model.generator, **network_options)
    discriminator = instantiate(cfg.model.discriminator, **network_options)
    module = GANModule(
        generator=generator,
        discriminator=discriminator,
        loss=instantiate(cfg.loss),
        generator_optimizer=instantiate(cfg.optimizer.generator, _convert_="all"),
        discriminator_optimizer=instantiate(cfg.optimizer.discriminator, _convert_="all"),
        conditioning=conditioning,
        ema_decay=cfg.model.get("ema_decay"),
    )
    module.run_config = OmegaConf.to_container(cfg, resolve=True)
    return module


def instantiate_all(group: DictConfig | None) -> list[Any]:
    """Instantiate every entry of a config group that holds several objects by name."""
    if not group:
        return []
    return [instantiate(node) for node in group.values() if node is not None and "_target_" in node]


def check_checkpoint(ckpt_path: str | None) -> None:
    if ckpt_path is not None and not Path(ckpt_path).is_file():
        raise GanArenaError(
            f"ckpt_path '{ckpt_path}' is not a file: pass a checkpoint such as "
            "logs/train/runs/<run>/checkpoints/last.ckpt"
        )


def train(cfg: DictConfig) -> float | None:
    """Fit the configured GAN; return `cfg.optimized_metric` for sweeps (None if unset)."""
    check_checkpoint(cfg.get("ckpt_path"))
    if cfg.get("seed") is not None:
        pl.seed_everything(cfg.seed, workers=True)
    if torch.cuda.is_available():
        torch.set_float32_matmul_precision(cfg.get("matmul_precision", "high"))
    datamodule: GANDataModule = instantiate(cfg.data)
    module = build_module(cfg, datamodule)
    callbacks = instantiate_all(cfg.get("callbacks"))
    loggers = instantiate_all(cfg.get("logger"))
    trainer: pl.Trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    output_dir = cfg.paths.output_dir
    try:
        trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    except Exception:
        log.error("the run failed; everything it wrote is in %s", output_dir)
        raise
    finally:
        close_loggers(trainer)
    log.info("run finished; outputs in %s", output_dir)
    return metric_value(trainer, cfg.get("optimized_metric"))


def close_loggers(trainer: pl.Trainer) -> None:
    """Flush every logger; end the W&B run so the next job of a multirun starts a new one."""
    for logger in trainer.loggers:
        logger.finalize("success")
    try:
        import wandb
    except ImportError:  # pragma: no cover - wandb is a dependency
        return
    if wandb.run is not None:
        wandb.finish()


def metric_value(trainer: pl.Trainer, name: str | None) -> float | None:
    if not name:
        return None
    if name not in trainer.callback_metrics:
        raise GanArenaError(
            f"optimized_metric '{name}' was never logged: choose one of "
            f"{', '.join(sorted(trainer.callback_metrics))}"
        )
    return float(trainer.callback_metrics[name])
