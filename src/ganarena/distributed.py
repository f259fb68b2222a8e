"""Data-parallel training for two networks that take turns.

Lightning's DDP strategy wraps the whole LightningModule in one DistributedDataParallel,
which expects every parameter to get a gradient in every backward. A GAN step leaves one
network without gradients on purpose, and gradient penalties need a double backward that
DDP's hooks do not support. `GANDDPStrategy` does what StyleGAN2-ADA does instead: no
wrapper; parameters are broadcast from rank 0 once, and before each optimizer step the
gradients of the parameters that optimizer owns are averaged across ranks in one
all-reduce. It also rebuilds the command of the child processes from the current Hydra
job, so that `-m` sweeps do not re-run the whole sweep in every child (Lightning #11300).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any

import lightning.pytorch as pl
import torch
import torch.distributed as dist
from lightning.pytorch.strategies import DDPStrategy, StrategyRegistry
from lightning.pytorch.strategies.launchers.subprocess_script import _SubprocessScriptLauncher
from omegaconf import ListConfig
from torch import nn
from torch.optim import Optimizer

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


#: What the launcher writes into the environment of the process that starts the others.
LAUNCH_VARIABLES = ("MASTER_ADDR", "MASTER_PORT", "NODE_RANK", "LOCAL_RANK", "WORLD_SIZE")


class _HydraJobLauncher(_SubprocessScriptLauncher):
    """Lightning's script launcher, with children started from the Hydra job's overrides.

    It also puts the launching process's environment back at teardown: a leftover
    LOCAL_RANK would make the next job of a sweep believe its processes were started
    externally, and never start them.
    """

    _saved_environment: dict[str, str | None] | None = None

    def _call_children_scripts(self) -> None:
        from hydra.core.hydra_config import HydraConfig

        self._saved_environment = {name: os.environ.get(name) for name in LAUNCH_VARIABLES}
        if not HydraConfig.initialized():
            super()._call_children_scripts()
            return
        self._check_can_spawn_children()
        self.procs = []
        os.environ["MASTER_ADDR"] = self.cluster_environment.main_address
        os.environ["MASTER_PORT"] = str(self.cluster_environment.main_port)
        os.environ["NODE_RANK"] = str(self.cluster_environment.node_rank())
        os.environ["LOCAL_RANK"] = str(self.cluster_environment.local_rank())
        os.environ["WORLD_SIZE"] = f"{self.num_processes * self.num_nodes}"
        for local_rank in range(1, self.num_processes):
            env = os.environ.copy()
            env["LOCAL_RANK"] = f"{local_rank}"
            command, cwd = hydra_child_command(local_rank)
            self.procs.append(subprocess.Popen(command, env=env, cwd=cwd))

    def restore_environment(self) -> None:
        for name, value in (self._saved_environment or {}).items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_environment = None


class GANDDPStrategy(DDPStrategy):
    """DDP for manual GAN optimization: averaged gradients per optimizer, no module wrapper."""

    def _configure_launcher(self) -> None:
        if self._start_method == "popen":
            assert self.cluster_environment is not None
            self._launcher = _HydraJobLauncher(
                self.cluster_environment, self.num_processes, self.num_nodes
            )
        else:
            super()._configure_launcher()

    def configure_ddp(self) -> None:
        """Synchronise the start instead of wrapping; then let each rank draw its own noise."""
        assert self.model is not None
        broadcast_module_state(self.model)
        seed = int(os.environ.get("PL_GLOBAL_SEED", torch.initial_seed() % 2**31))
        torch.manual_seed(seed + self.global_rank)

    def teardown(self) -> None:
        """Leave no process group or launch variables behind for the next job of a sweep."""
        super().teardown()
        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()
        if isinstance(self._launcher, _HydraJobLauncher):
            self._launcher.restore_environment()

    def optimizer_step(
        self,
        optimizer: Optimizer,
        closure: Callable[[], Any],
        model: pl.LightningModule | nn.Module | None = None,
        **kwargs: Any,
    ) -> Any:
        if self.world_size > 1:
            params = [p for group in optimizer.param_groups for p in group["params"]]
            average_gradients(params)
        return super().optimizer_step(optimizer, closure, model, **kwargs)


def select_strategy(devices: Any, num_nodes: Any = 1) -> str:
    """`auto` for one process, the GAN DDP strategy for more (used by the trainer config)."""
    if isinstance(devices, ListConfig | list | tuple):
        count = len(devices)
    elif str(devices) in {"auto", "-1"}:
        count = torch.cuda.device_count() if torch.cuda.is_available() else 1
    else:
        count = int(devices)
    return DISTRIBUTED_STRATEGY if count * int(num_nodes) > 1 else "auto"


def register_strategies() -> None:
    """Make `strategy=gan_ddp` and `strategy=gan_ddp_spawn` known to the Trainer."""
    for name, start_method in [(DISTRIBUTED_STRATEGY, "popen"), ("gan_ddp_spawn", "spawn")]:
        if name not in StrategyRegistry:
            StrategyRegistry.register(
                name,
                GANDDPStrategy,
                description=f"GAN data parallel ({start_method})",
                start_method=start_method,
            )


__all__ = [
    "DISTRIBUTED_STRATEGY",
    "GANDDPStrategy",
    "average_gradients",
    "register_strategies",
    "select_strategy",
]
