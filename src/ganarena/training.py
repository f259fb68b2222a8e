"""The training job: build everything the composed config names, fit, report."""

from __future__ import annotations

import logging
import math
import re
import time
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate as hydra_instantiate
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.loggers import Logger
from lightning.pytorch.utilities.exceptions import MisconfigurationException, SIGTERMException
from omegaconf import DictConfig, OmegaConf

from ganarena.callbacks.last_checkpoint import LastCheckpoint, resume_command
from ganarena.checkpoints import (
    check_fits,
    newest_complete_checkpoint,
    read_checkpoint,
    stopped_writing,
)
from ganarena.cli import in_multirun
from ganarena.compat import skip_nvml_probe_without_gpus
from ganarena.data.base import GANDataModule
from ganarena.distributed import check_strategy, data_parallel_strategy, register_strategies
from ganarena.errors import GanArenaError
from ganarena.gan_module import GANModule
from ganarena.loggers import finish_wandb_run
from ganarena.options import require_int, require_positive_int
from ganarena.provenance import Provenance, trace
from ganarena.run_record import (
    RunInterrupted,
    RunRecord,
    describe_run,
    group_choices,
    status_of,
)
from ganarena.run_summary import RunSummary, closing_summary, quiet_library_messages

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
    return instantiate(
        module_config,
        generator=from_data,
        discriminator=from_data,
        conditioning={"num_classes": datamodule.num_classes},
        _convert_="all",
    )


def instantiate_all(group: DictConfig | None) -> list[Any]:
    """Instantiate every entry of a config group that holds several objects by name."""
    if not group:
        return []
    return [instantiate(node) for node in group.values() if node is not None and "_target_" in node]


def build_trainer(
    config: DictConfig,
    callbacks: list[Callback],
    loggers: list[Logger],
    budget: dict[str, int] | None = None,
) -> pl.Trainer:
    """The Trainer of `config` (with `budget` overriding its length): several processes run
    under `gan_ddp` unless another strategy is named, and a setting Lightning refuses is one
    line."""
    register_strategies()
    try:
        trainer: pl.Trainer = instantiate(
            data_parallel_strategy(config),
            callbacks=callbacks,
            logger=loggers or False,
            **(budget or {}),
        )
    except InstantiationException as error:
        refused = error.__cause__
        if not isinstance(refused, MisconfigurationException | ValueError | TypeError):
            raise
        reason = " ".join(str(refused).split())
        raise GanArenaError(
            f"the trainer settings do not work ({reason}): fix trainer.devices, "
            "trainer.accelerator or trainer.precision (e.g. trainer=cpu)"
        ) from None
    check_strategy(trainer)
    return trainer


def training_budget(cfg: DictConfig, n_critic: int) -> dict[str, int]:
    """`train_steps` (training steps, what a study fixes) as the trainer's limits, which
    count optimizer steps: n_critic + 1 per training step. Empty when it is not set."""
    steps = cfg.get("train_steps")
    if steps is None:
        return {}
    steps = require_positive_int("train_steps", steps, 3360)
    if cfg.trainer.get("max_steps", -1) not in (None, -1):
        raise GanArenaError(
            f"train_steps={steps} and trainer.max_steps={cfg.trainer.max_steps} both set the "
            "length of the run: keep one (train_steps counts training steps)"
        )
    return {"max_steps": steps * (n_critic + 1), "max_epochs": -1}


def check_optimizers(module: GANModule) -> None:
    """Build each optimizer once on a dummy parameter: a bad setting (a negative learning
    rate) stops here in one line rather than in a traceback when training starts."""
    for network in ("generator", "discriminator"):
        factory = getattr(module, f"{network}_optimizer")
        try:
            factory([torch.nn.Parameter(torch.zeros(1))])
        except (ValueError, TypeError) as error:
            raise GanArenaError(
                f"optimizer.{network} cannot be built ({error}): fix optimizer.{network}.lr, "
                f"betas and the other settings, e.g. optimizer.{network}.lr=2e-4"
            ) from None


def checkpoint_to_resume(cfg: DictConfig) -> Path | None:
    """`ckpt_path`, or with `resume=auto` the run directory's newest complete checkpoint."""
    ckpt_path, resume = cfg.get("ckpt_path"), cfg.get("resume")
    if resume is None:
        return None if ckpt_path is None else Path(ckpt_path)
    if resume != "auto":
        raise GanArenaError(f"resume={resume!r} is not an option: use resume=auto or resume=null")
    if ckpt_path is not None:
        raise GanArenaError(
            f"resume=auto and ckpt_path={ckpt_path} both name the checkpoint: keep one"
        )
    folder = Path(cfg.paths.output_dir) / "checkpoints"
    found = newest_complete_checkpoint(folder)
    if found is None:
        log.info("resume=auto: no checkpoint in %s yet, so the run starts afresh", folder)
    else:
        log.info("resume=auto: continuing from %s", found)
    return found


def train(cfg: DictConfig) -> float | None:
    """Fit the configured GAN; return `cfg.optimized_metric` for sweeps (None if unset)."""
    quiet_library_messages()
    if cfg.get("seed") is not None:
        pl.seed_everything(require_int("seed", cfg.seed, 42), workers=True)
    skip_nvml_probe_without_gpus()
    if torch.cuda.is_available():
        torch.set_float32_matmul_precision(cfg.get("matmul_precision", "high"))
    datamodule: GANDataModule = instantiate(cfg.data)
    module = build_module(cfg, datamodule)
    check_optimizers(module)
    provenance = trace_settings(cfg)
    description = describe_run(
        cfg, module.generator, module.discriminator, datamodule.name, datamodule.sample_shape
    )
    description["provenance"] = provenance.as_dict()
    ckpt_path = checkpoint_to_resume(cfg)
    if ckpt_path is not None:
        check_fits(ckpt_path, read_checkpoint(ckpt_path), description)
    module.save_hyperparameters(description)
    callbacks = instantiate_all(cfg.get("callbacks"))
    callbacks.append(RunSummary(provenance, cfg.paths.output_dir, job=sweep_job()))
    budget = training_budget(cfg, module.loss.n_critic)
    trainer = build_trainer(cfg.trainer, callbacks, instantiate_all(cfg.get("logger")), budget)
    output_dir = cfg.paths.output_dir
    record = RunRecord(output_dir, module.hparams, rank_zero=trainer.is_global_zero)
    error: BaseException | None = None
    started = time.monotonic()
    try:
        trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=True)
    except SIGTERMException:
        error = RunInterrupted(sigterm_message(trainer, output_dir))
        raise error from None
    except BaseException as caught:
        error = caught
        folder, resume = Path(output_dir), resume_command(output_dir)
        refused = stopped_writing(caught, folder, folder / "checkpoints", resume)
        if refused is not None:  # a full disk, say: one line, not the write's traceback
            error = refused
            raise refused from None
        if not isinstance(caught, RunInterrupted | SystemExit):
            log.error("the run failed; everything it wrote is in %s", output_dir)
        raise
    finally:
        steps = trainer.global_step // (module.loss.n_critic + 1)
        kimg = steps * module.real_images_per_step / 1000
        record.end(status_of(error), steps, kimg, error)
        finish_wandb_run(failed=error is not None)
    if trainer.is_global_zero:
        log.info(closing_summary(module, time.monotonic() - started, output_dir))
    return metric_value(trainer, module, cfg.get("optimized_metric"))


def trace_settings(cfg: DictConfig) -> Provenance:
    """Where the run's settings came from, from its group choices and command line."""
    from hydra.core.hydra_config import HydraConfig

    overrides = list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []
    return trace(group_choices(cfg), overrides)


def sweep_job() -> dict[str, Any] | None:
    """Under `-m`, the job's number and log file (its summary goes there); else None."""
    if not in_multirun():
        return None
    from hydra.core.hydra_config import HydraConfig

    files = [h for h in logging.getLogger().handlers if isinstance(h, logging.FileHandler)]
    log_file = files[0].baseFilename if files else "the job's folder"
    return {"num": HydraConfig.get().job.num, "log": log_file}


def sigterm_message(trainer: pl.Trainer, output_dir: str) -> str:
    """What `LastCheckpoint` saved when Lightning stopped the fit for a SIGTERM."""
    for callback in trainer.callbacks:
        if isinstance(callback, LastCheckpoint) and callback.stop_message:
            return callback.stop_message
    return f"stopped by SIGTERM; no checkpoint callback saved it: see {output_dir}"


def metric_value(trainer: pl.Trainer, module: GANModule, name: str | None) -> float | None:
    """The last value of `name` the run wrote to its loggers (what a sweeper optimises).

    Rank zero writes the rows, so the other ranks of a DDP run return None; so does a run
    whose value is NaN, which a sweeper records as a failed trial.
    """
    if not name or not trainer.is_global_zero:
        return None
    written = module.logger_rows.last_written
    if name not in written:
        choices = ", ".join(sorted(written))
        raise GanArenaError(f"optimized_metric '{name}' was never logged: choose one of {choices}")
    return None if math.isnan(written[name]) else written[name]
