"""gan-arena's SLURM launchers (Hydra finds plugins only under `hydra_plugins`); the logic is
in `ganarena.cluster`."""

from hydra_plugins.hydra_submitit_launcher.submitit_launcher import (
    LocalLauncher as SubmititLocalLauncher,
)
from hydra_plugins.hydra_submitit_launcher.submitit_launcher import (
    SlurmLauncher as SubmititSlurmLauncher,
)

from ganarena.cluster import TaskAware


class SlurmLauncher(TaskAware, SubmititSlurmLauncher):
    """Jobs on a SLURM cluster: `hydra/launcher=slurm`."""


class LocalTasksLauncher(TaskAware, SubmititLocalLauncher):
    """Jobs on this machine through submitit's local executor, several tasks each, with its
    timeout and preemption signal: the SLURM path, tested without SLURM (`slurm_local`)."""
