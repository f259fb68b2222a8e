"""Data-parallel training for two networks that take turns: the `gan_ddp` strategy.

Lightning's DDP strategy wraps the whole LightningModule in one DistributedDataParallel,
which expects every parameter to get a gradient in every backward. A GAN step leaves one
network without gradients on purpose, and gradient penalties need a double backward that
DDP's hooks do not support. `GANDDPStrategy` reduces gradients itself, as StyleGAN3's
training loop does (Karras et al. 2021): no wrapper; parameters are broadcast from rank 0
once, and before each optimizer step the gradients of the parameters that optimizer owns
are averaged across ranks in one flat all-reduce. CPU ranks on one x86-64 machine reduce
through shared memory (`ganarena.shared_memory`) rather than gloo, whose latency on busy
cores costs more than the step. Its child processes start from the current Hydra job's
overrides, so that `-m` sweeps do not re-run the whole sweep in every child (Lightning #11300).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

import lightning.pytorch as pl
import torch
import torch.distributed as dist
from lightning.pytorch.strategies import StrategyRegistry
from lightning.pytorch.utilities import rank_zero_info
from lightning.pytorch.utilities.exceptions import SIGTERMException
from torch import nn
from torch.optim import Optimizer

from ganarena.compat import ChildCommandDDPStrategy, replace_sigterm_broadcast
from ganarena.errors import GanArenaError
from ganarena.ranks import agree, all_reduce_in_place, use_shared_memory_all_reduce
from ganarena.shared_memory import SharedMemoryAllReduce, new_shared_file, shared_memory_supported

log = logging.getLogger(__name__)

DISTRIBUTED_STRATEGY = "gan_ddp"


def average_gradients(parameters: Sequence[nn.Parameter]) -> None:
    """Replace each gradient by its mean over all ranks, in one flat all-reduce."""
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    all_reduce_in_place(flat)
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

    shared_memory: SharedMemoryAllReduce | None = None

    def child_command(self, local_rank: int) -> tuple[list[str], str]:
        return hydra_child_command(local_rank)

    def configure_ddp(self) -> None:
        """Synchronise the start instead of wrapping (each rank draws its own noise: the GAN
        module seeds every training step with the rank)."""
        assert self.model is not None
        broadcast_module_state(self.model)

    def setup(self, trainer: pl.Trainer) -> None:
        """Reduce through shared memory where the ranks can (one machine, CPU, x86-64): every
        reduction of `ganarena.ranks`, and Lightning's per-batch SIGTERM broadcast with them."""
        super().setup(trainer)
        self.shared_memory = self._open_shared_memory()
        if self.shared_memory is not None:
            use_shared_memory_all_reduce(self.shared_memory.all_reduce)
            replace_sigterm_broadcast(trainer, lambda: self._stop_together_on_sigterm(trainer))

    def _open_shared_memory(self) -> SharedMemoryAllReduce | None:
        eligible = self.num_nodes == 1 and self.root_device.type == "cpu"
        if self.world_size < 2 or not eligible or not shared_memory_supported():
            return None
        try:
            made = [new_shared_file(self.world_size) if self.global_rank == 0 else None]
        except OSError as error:  # e.g. /dev/shm full: every rank then stays on gloo
            log.warning("no shared memory for the all-reduce (%s): gloo instead", error)
            made = [None]
        dist.broadcast_object_list(made, src=0)
        path = made[0]
        if path is None:
            return None
        reducer = SharedMemoryAllReduce(path, self.global_rank, self.world_size)
        reducer.publish_pid()
        dist.barrier()
        if self.global_rank == 0:
            path.unlink()  # the mappings keep the memory; a crash leaves no file behind
        rank_zero_info(f"{self.world_size} ranks on this machine reduce through shared memory")
        return reducer

    def _stop_together_on_sigterm(self, trainer: pl.Trainer) -> None:
        """What Lightning's broadcast does before each batch, for a SIGTERM on any rank."""
        (stop,) = agree([trainer.received_sigterm], self.root_device)
        if stop:
            raise SIGTERMException()

    def teardown(self) -> None:
        """Leave no process group behind for the next job of a sweep."""
        if self.shared_memory is not None:
            use_shared_memory_all_reduce(None)
            self.shared_memory.close()
            self.shared_memory = None
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


def check_strategy(trainer: pl.Trainer) -> None:
    """Several processes train a GAN only under `gan_ddp`; say so before anything starts."""
    processes = trainer.num_devices * trainer.num_nodes
    if processes > 1 and not isinstance(trainer.strategy, GANDDPStrategy):
        raise GanArenaError(
            f"{processes} processes (trainer.devices={trainer.num_devices}, trainer.num_nodes="
            f"{trainer.num_nodes}) need the GAN data-parallel strategy, not "
            f"{type(trainer.strategy).__name__}: use trainer=ddp (GPUs) or trainer=ddp_cpu, or "
            f"set trainer.strategy={DISTRIBUTED_STRATEGY}"
        )
