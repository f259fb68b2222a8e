"""Data-parallel training for two networks that take turns: the `gan_ddp` strategy.

Lightning's DDP strategy wraps the whole LightningModule in one DistributedDataParallel,
which expects every parameter to get a gradient in every backward. A GAN step leaves one
network without gradients on purpose, and gradient penalties need a double backward that
DDP's hooks do not support. `GANDDPStrategy` reduces gradients itself, as StyleGAN3's
training loop does (Karras et al. 2021): no wrapper; parameters are broadcast from rank 0
once, and before each optimizer step the gradients of the parameters that optimizer owns
are averaged across ranks in one flat all-reduce (gloo between CPU processes, NCCL between
GPUs). Its child processes start from the current Hydra job's overrides, so that `-m`
sweeps do not re-run the whole sweep in every child (Lightning #11300).

`trainer.devices=4` (or `trainer.num_nodes=2`) with the default `strategy: auto` selects it
by itself (`data_parallel_strategy`): Lightning's "auto" would pick its own DDP.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import lightning.pytorch as pl
import torch
import torch.distributed as dist
from lightning.pytorch.accelerators import AcceleratorRegistry
from lightning.pytorch.strategies import StrategyRegistry
from omegaconf import DictConfig
from torch import nn
from torch.optim import Optimizer

from ganarena.compat import ChildCommandDDPStrategy
from ganarena.errors import GanArenaError

DISTRIBUTED_STRATEGY = "gan_ddp"


def average_gradients(parameters: Sequence[nn.Parameter]) -> None:
    """Replace each gradient by its mean over all ranks, in one flat all-reduce."""
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= dist.get_world_size()
    offset = 0
    for grad in grads:
        grad.copy_(flat[offset : offset + grad.numel()].view_as(grad))
        offset += grad.numel()


def broadcast_module_state(module: nn.Module) -> None:
    """Give every rank rank 0's parameters and buffers (what DDP does when it wraps)."""
    for tensor in module.state_dict().values():
        if isinstance(tensor, torch.Tensor):
            dist.broadcast(tensor, src=0)


def hydra_child_command(local_rank: int) -> tuple[list[str], str]:
    """The command that starts rank `local_rank` of the current Hydra job, sweep or not."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.utils import get_original_cwd, to_absolute_path

    hydra_cfg = HydraConfig.get()
    command = [sys.executable, to_absolute_path(sys.argv[0]), *hydra_cfg.overrides.task]
    command += [
        f'hydra.run.dir="{hydra_cfg.runtime.output_dir}"',
        f"hydra.job.name={hydra_cfg.job.name}_rank{local_rank}",
        "hydra.output_subdir=null",
    ]
    return command, get_original_cwd()


class GANDDPStrategy(ChildCommandDDPStrategy):
    """DDP for manual GAN optimization: averaged gradients per optimizer, no module wrapper."""

    def child_command(self, local_rank: int) -> tuple[list[str], str]:
        return hydra_child_command(local_rank)

    def configure_ddp(self) -> None:
        """Synchronise the start instead of wrapping (each rank draws its own noise: the GAN
        module seeds every training step with the rank)."""
        assert self.model is not None
        broadcast_module_state(self.model)

    def teardown(self) -> None:
        """Leave no process group behind for the next job of a sweep."""
        super().teardown()
        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()

    def optimizer_step(
        self,
        optimizer: Optimizer,
        closure: Callable[[], Any],
        model: pl.LightningModule | nn.Module | None = None,
        **kwargs: Any,
    ) -> Any:
        self.reduce_gradients(optimizer)
        return super().optimizer_step(optimizer, closure, model, **kwargs)

    def reduce_gradients(self, optimizer: Optimizer) -> None:
        """Average the gradients of `optimizer`'s parameters across ranks (before its step)."""
        if self.world_size > 1:
            params = [p for group in optimizer.param_groups for p in group["params"]]
            average_gradients(params)


def register_strategies() -> None:
    """Make `strategy: gan_ddp` (the trainer configs `ddp` and `ddp_cpu`) known to Lightning."""
    if DISTRIBUTED_STRATEGY not in StrategyRegistry:
        StrategyRegistry.register(
            DISTRIBUTED_STRATEGY, GANDDPStrategy, description="GAN data parallel"
        )


def devices_per_node(accelerator: str, devices: Any) -> int:
    """How many processes per node `trainer.devices` asks for, counted as Lightning does:
    a number, a list or comma-separated string of device ids, or "auto" (-1: all devices)."""
    if accelerator in ("auto", "gpu"):
        found = [n for n in ("cuda", "mps") if AcceleratorRegistry.get(n).is_available()]
        accelerator = found[0] if found else "cpu"
    if isinstance(devices, str) and "," in devices:
        return len([d for d in devices.split(",") if d.strip()])
    if isinstance(devices, Sequence) and not isinstance(devices, str):
        return len(devices)
    if devices in ("auto", -1, "-1"):
        return AcceleratorRegistry.get(accelerator).auto_device_count()
    return int(devices)


def data_parallel_strategy(trainer_config: DictConfig) -> DictConfig:
    """The trainer config with `strategy: gan_ddp` where it asks for several processes and
    leaves the strategy to Lightning ("auto"), so that `trainer.devices=4` works as typed."""
    if trainer_config.get("strategy", "auto") != "auto":
        return trainer_config
    accelerator = str(trainer_config.get("accelerator", "auto"))
    devices = devices_per_node(accelerator, trainer_config.get("devices", "auto"))
    if devices * int(trainer_config.get("num_nodes", 1)) < 2:
        return trainer_config
    resolved = trainer_config.copy()
    resolved.strategy = DISTRIBUTED_STRATEGY
    return resolved


def check_strategy(trainer: pl.Trainer) -> None:
    """Several processes train a GAN only under `gan_ddp`; say so before anything starts."""
    processes = trainer.num_devices * trainer.num_nodes
    if processes > 1 and not isinstance(trainer.strategy, GANDDPStrategy):
        raise GanArenaError(
            f"{processes} processes (trainer.devices={trainer.num_devices}, trainer.num_nodes="
            f"{trainer.num_nodes}) need the GAN data-parallel strategy, not "
            f"{type(trainer.strategy).__name__}: set trainer.strategy={DISTRIBUTED_STRATEGY} (or "
            "leave it at auto)"
        )
