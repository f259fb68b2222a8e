"""The training job: build everything the composed config names, fit, report."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate as hydra_instantiate
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.loggers import Logger
from omegaconf import DictConfig, OmegaConf

from ganarena.data.base import GANDataModule
from ganarena.distributed import check_strategy, register_strategies
from ganarena.errors import GanArenaError
from ganarena.gan_module import GANModule

log = logging.getLogger(__name__)

UNEXPECTED_OPTION = re.compile(r"(\w+)\.__init__\(\) got an unexpected keyword argument '(\w+)'")


def instantiate(config: Any, **kwargs: Any) -> Any:
    """Hydra's instantiate, with the errors a user can fix as one line.

    Hydra wraps every constructor error in an InstantiationException with a long message: a
    constructor's GanArenaError comes through as itself, and an option the constructor does
    not take (a typo, or `+data.x=1`) as a line naming it.
    """
    try:
        return hydra_instantiate(config, **kwargs)
    except InstantiationException as error:
        cause = error.__cause__
        if isinstance(cause, GanArenaError):
            raise cause from None
        unexpected = UNEXPECTED_OPTION.search(str(cause)) if isinstance(cause, TypeError) else None
        if unexpected is None:
            raise
        owner, option = unexpected.groups()
        node = re.search(r"full_key: ([\w.]+)", str(error))
        key = f"{node.group(1)}.{option}" if node else option
        raise GanArenaError(
            f"{owner} takes no option '{option}': remove {key} from the command line or config"
        ) from None


def build_module(cfg: DictConfig, datamodule: GANDataModule) -> GANModule:
    """The GAN of `cfg.module`, with the networks shaped by the data and its class count."""
    module_config = OmegaConf.create(OmegaConf.to_container(cfg.module, resolve=True))
    from_data = {
        "data_shape": list(datamodule.sample_shape),
        "num_classes": datamodule.num_classes,
        "conditioning": module_config.conditioning.method,
    }
    module: GANModule = instantiate(
        module_config,
        generator=from_data,
        discriminator=from_data,
        conditioning={"num_classes": datamodule.num_classes},
        _convert_="all",
    )
    module.run_config = OmegaConf.to_container(cfg, resolve=True)
    return module


def instantiate_all(group: DictConfig | None) -> list[Any]:
    """Instantiate every entry of a config group that holds several objects by name."""
    if not group:
        return []
    return [instantiate(node) for node in group.values() if node is not None and "_target_" in node]


def build_trainer(
    config: DictConfig, callbacks: list[Callback], loggers: list[Logger]
) -> pl.Trainer:
    """The Trainer of `config`; several processes are checked to run under `gan_ddp`."""
    register_strategies()
    trainer: pl.Trainer = instantiate(config, callbacks=callbacks, logger=loggers or False)
    check_strategy(trainer)
    return trainer


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
    trainer = build_trainer(cfg.trainer, callbacks, instantiate_all(cfg.get("logger")))
    output_dir = cfg.paths.output_dir
    try:
        trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    except Exception:
        log.error("the run failed; everything it wrote is in %s", output_dir)
        raise
    finally:
        close_loggers(trainer)
    log.info("run finished; outputs in %s", output_dir)
    return metric_value(trainer, module, cfg.get("optimized_metric"))


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


def metric_value(trainer: pl.Trainer, module: GANModule, name: str | None) -> float | None:
    """The last value of `name` the run wrote to its loggers (what a sweeper optimises).

    Rank zero writes the rows, so the other ranks of a DDP run return None.
    """
    if not name or not trainer.is_global_zero:
        return None
    written = module.logger_rows.last_written
    if name not in written:
        choices = ", ".join(sorted(written))
        raise GanArenaError(f"optimized_metric '{name}' was never logged: choose one of {choices}")
    return written[name]
