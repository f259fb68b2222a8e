"""SLURM through submitit: what `hydra/launcher=slurm` and `slurm_local` add to
hydra-submitit-launcher's launchers (the launcher classes themselves live in
`hydra_plugins.ganarena_launchers`, where Hydra looks for plugins).

hydra-submitit-launcher runs every task of a job through the whole Hydra job; these launchers
add what a multi-task GAN job needs:

- the task's rank goes into the environment as torch.distributed reads it (`LOCAL_RANK`,
  `RANK`, `WORLD_SIZE`, `MASTER_ADDR`, `MASTER_PORT`), so Lightning sees processes that were
  started for it and never starts any of its own;
- only rank zero writes the job's `.hydra/` folder and its log file (the other ranks log to
  `<task>_rank<r>.log`); the loggers, `run.json` and the checkpoints are rank zero's already;
- a job that is preempted or times out saves `last.ckpt` at the next training step
  (`callbacks.last_checkpoint`), then submitit requeues it; the requeued job runs again in the
  same run directory with `resume=auto` and continues from that checkpoint.
"""

from __future__ import annotations

from typing import Any

RESUME = "resume=auto"


def rank_zero_only_writes(rank: int) -> list[str]:
    """Overrides for a task of rank `rank`: its own log file, and no `.hydra/` unless rank 0."""
    if rank == 0:
        return []
    return [
        "hydra.output_subdir=null",
        f"hydra.job_logging.handlers.file.filename=${{hydra.runtime.output_dir}}/"
        f"${{task_name}}_rank{rank}.log",
    ]


class TaskAware:
    """What both launchers add to hydra-submitit-launcher's (see the module docstring)."""

    def __call__(self, sweep_overrides: list[str], *args: Any) -> Any:
        import submitit

        environment = submitit.helpers.TorchDistributedEnvironment()
        environment.export(set_cuda_visible_devices=False)
        overrides = [*sweep_overrides, *rank_zero_only_writes(environment.rank)]
        return super().__call__(overrides, *args)  # type: ignore[misc]

    def checkpoint(self, sweep_overrides: list[str], *args: Any) -> Any:
        """Called by submitit when the job is preempted: requeue it to resume where it was."""
        overrides = [o for o in sweep_overrides if not o.startswith("resume=")] + [RESUME]
        return super().checkpoint(overrides, *args)  # type: ignore[misc]
