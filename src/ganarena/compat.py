"""The private APIs of the libraries gan-arena builds on, in this one module.

Each use exists because the library offers no public way to do the thing;
`tests/test_compat.py` runs the behaviour each one depends on, so that a release that
changes it fails there, by name.

- Lightning starts the DDP child processes with `sys.argv`, which under a Hydra multirun
  (`-m`) makes every child run the whole sweep (Lightning #11300, Hydra #2070). The children
  must be started from the current job's overrides instead; the only hooks are the script
  launcher's `_call_children_scripts`, the module-level `_hydra_subprocess_cmd` it calls, and
  the strategy's `_configure_launcher`.
- torchmetrics' Inception (`NoTrainInceptionV3`) returns the pool features and the logits
  from one pass only through its `_torch_fidelity_forward`; its public `forward` returns the
  first of them.
- A weights file for torch-fidelity's Inception with random values (for timing it, and for
  tests, where nothing can be downloaded) means building the network without its download,
  which torch-fidelity fetches through its module attribute `load_state_dict_from_url`.

Not a private API, but a library's side effect undone: Lightning sets
`PYTORCH_NVML_BASED_CUDA_CHECK=1` when imported, so that asking whether CUDA is available
does not initialise CUDA. torch then answers `torch.cuda.is_available()` by loading the
NVIDIA management library, afresh on each call while CUDA is not initialised, and torch's
Adam asks on every step. Where no NVIDIA driver is installed that load fails every time
(about 0.25 ms per optimizer step on a CPU); with no GPU there is nothing for the variable to
protect, and `skip_nvml_probe_without_gpus` removes it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import torch
from lightning.pytorch.strategies import DDPStrategy
from lightning.pytorch.strategies.launchers import subprocess_script
from torch import Tensor, nn

#: Set by `import lightning`; see `skip_nvml_probe_without_gpus`.
NVML_CHECK_VARIABLE = "PYTORCH_NVML_BASED_CUDA_CHECK"

#: What the launcher writes into the environment of the process that starts the others.
LAUNCH_VARIABLES = ("MASTER_ADDR", "MASTER_PORT", "NODE_RANK", "LOCAL_RANK", "WORLD_SIZE")

#: `(local_rank) -> (command, working directory)` of a child process.
ChildCommand = Callable[[int], tuple[list[str], str]]


class ChildCommandLauncher(subprocess_script._SubprocessScriptLauncher):
    """Lightning's script launcher, with the children's command from `child_command`.

    It also puts the launching process's environment back afterwards (`restore_environment`):
    a leftover LOCAL_RANK would make the next job of a sweep believe its processes were
    started externally, and never start them.
    """

    def __init__(self, *args, child_command: ChildCommand, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.child_command = child_command
        self.saved_environment: dict[str, str | None] = {}

    def _call_children_scripts(self) -> None:
        self.saved_environment = {name: os.environ.get(name) for name in LAUNCH_VARIABLES}
        lightning_command = subprocess_script._hydra_subprocess_cmd
        subprocess_script._hydra_subprocess_cmd = self.child_command
        try:
            super()._call_children_scripts()
        finally:
            subprocess_script._hydra_subprocess_cmd = lightning_command

    def restore_environment(self) -> None:
        for name, value in self.saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self.saved_environment = {}


class ChildCommandDDPStrategy(DDPStrategy):
    """`DDPStrategy` whose launcher starts children with `child_command` (under Hydra)."""

    def child_command(self, local_rank: int) -> tuple[list[str], str]:
        raise NotImplementedError

    def _configure_launcher(self) -> None:
        assert self.cluster_environment is not None
        self._launcher = ChildCommandLauncher(
            self.cluster_environment,
            self.num_processes,
            self.num_nodes,
            child_command=self.child_command,
        )

    def teardown(self) -> None:
        super().teardown()
        if isinstance(self.launcher, ChildCommandLauncher):
            self.launcher.restore_environment()


def inception_features_and_logits(network: nn.Module, images: Tensor) -> tuple[Tensor, Tensor]:
    """Pool features and logits of torchmetrics' `NoTrainInceptionV3` from one forward pass."""
    features, logits = network._torch_fidelity_forward(images)
    return features, logits


def save_random_inception_weights(path: Path) -> Path:
    """A weights file in torch-fidelity's Inception format, with random values (not for FID)."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    download = "torch_fidelity.feature_extractor_inceptionv3.load_state_dict_from_url"
    with (
        mock.patch(download, return_value=None),
        mock.patch.object(FeatureExtractorInceptionV3, "load_state_dict"),
    ):
        network = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    torch.save(network.state_dict(), path)
    return path


def skip_nvml_probe_without_gpus() -> None:
    """On a machine with no GPU, drop Lightning's NVML-based CUDA check, which costs every
    Adam step a failed attempt to load the NVIDIA management library (module docstring)."""
    if os.environ.get(NVML_CHECK_VARIABLE) == "1" and torch.cuda.device_count() == 0:
        del os.environ[NVML_CHECK_VARIABLE]
