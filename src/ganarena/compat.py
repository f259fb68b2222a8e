"""Every private API of the libraries gan-arena builds on, in this one module.

Each use below exists because the library offers no public way to do the thing, and
`tests/test_compat.py` fails loudly when a new release changes it. `pyproject.toml` bounds
each library to the releases the test suite has run against.

- Lightning starts the DDP child processes with `sys.argv`, which under a Hydra multirun
  (`-m`) makes every child run the whole sweep (Lightning #11300, Hydra #2070). The children
  must be started from the current job's overrides instead; the only hooks are the launcher's
  private `_call_children_scripts`, the module-level `_hydra_subprocess_cmd` it calls, and the
  strategy's private `_configure_launcher`.
- torchmetrics' Inception (`NoTrainInceptionV3`) returns the pool features and the logits
  from one pass only through its private `_torch_fidelity_forward`; its public `forward`
  returns the first of them.
- A weights file for torch-fidelity's Inception with random values (for timing it, and for
  tests, where nothing can be downloaded) means building the network without its download,
  which torch-fidelity fetches through the module attribute `load_state_dict_from_url`.
- Values reach `trainer.callback_metrics` (what ModelCheckpoint and EarlyStopping monitor) by
  updating that dict, as Lightning's own process launcher does: `LightningModule.log` costs
  about a millisecond per value (its result collection moves every entry to the device on
  each call), more than a whole small GAN step on a CPU.
- Under DDP, Lightning's training epoch loop broadcasts rank 0's SIGTERM flag through the
  process group before every batch (its private `_broadcast_sigterm_tensor`), a gloo
  collective that costs more than a small GAN step on busy CPU cores. `GANDDPStrategy`
  replaces it, for its shared-memory ranks, by the same agreement through shared memory.
- An optimizer step taken without `LightningOptimizer.step` (`ganarena.direct_updates`, where
  no hook listens) must still be counted as Lightning counts it, in the manual-optimization
  loop's private `optim_step_progress`, from which `trainer.global_step` is read.
- Lightning's training epoch loop (`_TrainingEpochLoop.advance` and `on_advance_end`) costs
  about 0.15 ms per batch more than the work it does for a manual-optimization module with no
  validation (an empty training step on the development CPU: 0.21 ms against 0.06 ms, the
  data loader's 0.03 ms in both), 3% of a small GAN step. `LeanBatchLoop` takes the place of
  those two methods on the trainer's epoch loop, reading and updating its progress counters,
  its data fetcher, its logger connector and result collection, and the manual-optimization
  loop's optimizer-step closures as Lightning does; and of its `run`, whose `done` check
  before every batch reads a dozen properties, asking it only when the epoch could be done
  (the conditions of `_is_training_done`, a restart, or a requested stop).
- `ModelCheckpoint` keeps the `every_n_train_steps` it resolved (0 when saving by epoch) only in
  a private attribute; `GANModelCheckpoint` reads it to skip, on the steps where it saves
  nothing, Lightning's own check, which reads `trainer.global_step` through five properties.
- The lean loop names the running hook in `LightningModule._current_fx_name`, what
  `self.log` checks, as Lightning's loop does, but through `object.__setattr__`.
- Lightning sets `PYTORCH_NVML_BASED_CUDA_CHECK=1` when it is imported, so that asking whether
  CUDA is available does not initialise CUDA (which would break forked processes). torch then
  answers `torch.cuda.is_available()` by loading the NVIDIA management library, afresh on
  each call while CUDA is not initialised, and torch's Adam and AdamW ask on every step (their
  graph-capture health check). Where no NVIDIA driver is installed the library fails to load
  every time: about 0.25 ms per optimizer step on the development CPU, which a hand-written
  loop, with no Lightning imported, never pays. With no GPU there is nothing for the variable
  to protect, and `skip_nvml_probe_without_gpus` removes it.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from unittest import mock

import lightning.pytorch as pl
import torch
import torch.distributed as dist
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.core.optimizer import do_nothing_closure
from lightning.pytorch.loops.fetchers import _DataFetcher, _PrefetchDataFetcher
from lightning.pytorch.loops.optimization.manual import ManualResult
from lightning.pytorch.loops.progress import _Progress
from lightning.pytorch.plugins.precision import Precision
from lightning.pytorch.profilers import PassThroughProfiler
from lightning.pytorch.strategies import DDPStrategy, Strategy
from lightning.pytorch.strategies.launchers import subprocess_script
from lightning.pytorch.trainer.connectors.logger_connector import _LoggerConnector
from lightning.pytorch.trainer.connectors.logger_connector.result import _ResultCollection
from lightning.pytorch.utilities.exceptions import SIGTERMException
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

    child_command: ChildCommand

    def __init__(self, *args, child_command: ChildCommand, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.child_command = child_command
        self._saved_environment: dict[str, str | None] = {}

    def _call_children_scripts(self) -> None:
        self._saved_environment = {name: os.environ.get(name) for name in LAUNCH_VARIABLES}
        lightning_command = subprocess_script._hydra_subprocess_cmd
        subprocess_script._hydra_subprocess_cmd = self.child_command
        try:
            super()._call_children_scripts()
        finally:
            subprocess_script._hydra_subprocess_cmd = lightning_command

    def restore_environment(self) -> None:
        for name, value in self._saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_environment = {}


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
        if isinstance(self._launcher, ChildCommandLauncher):
            self._launcher.restore_environment()


def publish_callback_metrics(trainer: pl.Trainer, values: Mapping[str, Tensor | float]) -> None:
    """Put `values` into `trainer.callback_metrics`, as detached tensors, without `self.log`."""
    trainer.callback_metrics.update(
        {
            name: value.detach() if isinstance(value, Tensor) else torch.tensor(float(value))
            for name, value in values.items()
        }
    )


def replace_sigterm_broadcast(trainer: pl.Trainer, agreement: Callable[[], None]) -> None:
    """Call `agreement` where Lightning's epoch loop broadcasts its SIGTERM flag each batch."""
    trainer.fit_loop.epoch_loop._broadcast_sigterm_tensor = agreement


def optimizer_step_progress(trainer: pl.Trainer) -> _Progress:
    """The manual-optimization loop's count of optimizer steps: `total.completed` is what
    `trainer.global_step` reads (through five properties)."""
    return trainer.fit_loop.epoch_loop.manual_optimization.optim_step_progress


def train_step_interval(checkpoint: ModelCheckpoint) -> int:
    """`ModelCheckpoint`'s `every_n_train_steps` as it resolved it (0: never), which it keeps
    in a private attribute."""
    return checkpoint._every_n_train_steps


def counted_step(progress: _Progress, step: Callable[[], object]) -> None:
    """Call `step`, an optimizer step, counted in `progress` (`optimizer_step_progress`) as
    `LightningOptimizer.step` counts it (manual optimization): ready before, completed after."""
    progress.increment_ready()
    step()
    progress.increment_completed()


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


#: The batch hooks whose overrides make the lean loop hand a batch to Lightning's transfer.
BATCH_TRANSFER_HOOKS = (
    "on_before_batch_transfer",
    "transfer_batch_to_device",
    "on_after_batch_transfer",
)


def overrides(instance: object, base: type, name: str) -> bool:
    """Whether `instance`'s class defines the method `name` other than `base` does."""
    return getattr(type(instance), name, None) is not getattr(base, name, None)


def why_lightning_batches(trainer: pl.Trainer, module: pl.LightningModule) -> str | None:
    """Why every batch must go through Lightning's own epoch loop; None when the lean one fits."""
    if not isinstance(trainer.profiler, PassThroughProfiler):
        return f"the profiler {type(trainer.profiler).__name__} times each hook"
    if trainer.enable_validation:
        return "the module validates during training"
    if module.automatic_optimization:
        return "automatic optimization"
    if overrides(module, pl.LightningModule, "on_train_batch_start"):
        return f"{type(module).__name__} overrides on_train_batch_start"
    if overrides(trainer.strategy, Strategy, "on_train_batch_start"):
        return f"the strategy {type(trainer.strategy).__name__} acts before each batch"
    if not isinstance(trainer.fit_loop._data_fetcher, _PrefetchDataFetcher):
        return "training_step takes the data loader's iterator"
    return None


def in_hook(module: pl.LightningModule, name: str | None) -> None:
    """Tell `module` which hook runs (what `self.log` checks), as Lightning's loop does, but
    without `nn.Module.__setattr__`'s checks for parameters, buffers and modules: a dozen
    calls each time, four times a batch, for a plain string."""
    object.__setattr__(module, "_current_fx_name", name)


def batch_end_interval(
    callback: pl.Callback, trainer: pl.Trainer, module: pl.LightningModule
) -> int:
    """Training steps between the batch ends a callback acts on, besides the fit's last: its
    `batch_end_interval(trainer, pl_module)` where it has one (0: only the last), else 1."""
    interval = getattr(callback, "batch_end_interval", None)
    return 1 if interval is None else max(int(interval(trainer, module)), 0)


def _batch_on(batch: object, device: torch.device) -> bool:
    """Whether `batch` is a tuple or list of tensors already on `device`."""
    if not isinstance(batch, tuple | list):
        return False
    return all(isinstance(item, Tensor) and item.device == device for item in batch)


class LeanBatchLoop:
    """Lightning's per-batch work for a manual-optimization module, without its machinery.

    Per batch, Lightning's epoch loop opens profiler contexts around every hook, formats each
    callback's `state_key` for each of them (a dict printed to a string for
    `ModelCheckpoint`), calls every callback's hook whether it overrides it or not, passes a
    batch already on the device through three transfer hooks, reads `training_step`'s
    signature with `inspect`, and asks about learning-rate schedulers that manual
    optimization never steps. This loop does the same work in the same order where
    `why_lightning_batches` finds nothing that needs the rest, calls only the hooks that
    callbacks override, and hands a restarting batch back to Lightning's own code. A batch
    that is not on the device yet, or a hook that transfers it, goes through Lightning's
    transfer as before.

    A callback that acts at batch ends only every n training steps (and on the fit's last
    step) says so with `batch_end_interval(trainer, pl_module) -> n`, asked once per fit
    (0: the last step only; 1: every batch): this loop then calls its `on_train_batch_end`
    on those steps alone. Under Lightning's loop it is called on every batch and checks for
    itself, so its hook must not rely on being skipped.
    """

    def __init__(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        loop = trainer.fit_loop.epoch_loop
        self.trainer, self.module, self.loop = trainer, module, loop
        self.lightning_advance = type(loop).advance.__get__(loop)
        self.batch_start_hooks = self._callback_hooks("on_train_batch_start")
        #: Each batch-end hook with the callback's `batch_end_interval` (1 where it has none).
        self.batch_end_hooks = [
            (callback.on_train_batch_end, batch_end_interval(callback, trainer, module))
            for callback in trainer.callbacks
            if overrides(callback, pl.Callback, "on_train_batch_end")
        ]
        self.periodic_batch_ends = any(interval != 1 for _, interval in self.batch_end_hooks)
        self.module_batch_end = overrides(module, pl.LightningModule, "on_train_batch_end")
        hooked = [(module, pl.LightningModule)]
        if trainer.datamodule is not None:
            hooked.append((trainer.datamodule, pl.LightningDataModule))
        #: Whether each batch goes through Lightning's conversion and transfer hooks even when
        #: it is already on the device: something overrides one of them.
        self.transfers = (
            type(trainer.precision_plugin).convert_input is not Precision.convert_input
            or overrides(trainer.strategy, Strategy, "batch_to_device")
            or any(overrides(o, base, h) for o, base in hooked for h in BATCH_TRANSFER_HOOKS)
        )
        strategy = trainer.strategy
        self.direct_training_step = (
            strategy.model is module
            and not overrides(strategy, Strategy, "training_step")
            and not overrides(strategy, Strategy, "post_training_step")
        )
        self.distributed = dist.is_available() and dist.is_initialized() and trainer.world_size > 1
        self.device = strategy.root_device
        precision = strategy.precision_plugin
        #: The precision's context around the step (autocast), None where it has none.
        plain = not any(
            overrides(precision, Precision, name)
            for name in ("train_step_context", "forward_context")
        )
        self.step_context = None if plain else precision.train_step_context

    def _callback_hooks(self, name: str) -> list[Callable[..., object]]:
        """The callbacks' `name` hooks, of those that override it (the others do nothing)."""
        return [
            getattr(callback, name)
            for callback in self.trainer.callbacks
            if overrides(callback, pl.Callback, name)
        ]

    def install(self) -> None:
        self.loop.run = self.run
        self.loop.advance = self.advance
        self.loop.on_advance_end = self.on_advance_end

    def uninstall(self) -> None:
        for name in ("run", "advance", "on_advance_end"):
            self.loop.__dict__.pop(name, None)

    def run(self, data_fetcher: _DataFetcher) -> None:
        """`_TrainingEpochLoop.run`, asking Lightning's `done` (a dozen properties deep) only
        when the epoch could be done: a stop was asked for, the loop restarts, the last
        batch is in, or the step limit is reached."""
        loop, trainer = self.loop, self.trainer
        loop.reset()
        loop.on_run_start(data_fetcher)
        batches, progress = trainer.num_training_batches, loop.batch_progress
        steps = loop.manual_optimization.optim_step_progress.total
        lightning_done = type(loop).done.fget
        while True:
            max_steps = loop.max_steps
            if (
                trainer.should_stop
                or loop.restarting
                or progress.is_last_batch
                or progress.current.ready == batches
                or 0 <= max_steps <= steps.completed
            ) and lightning_done(loop):
                return
            try:
                self.advance(data_fetcher)
                self.on_advance_end(data_fetcher)
            except StopIteration:
                return
            finally:
                loop.on_iteration_done()

    def advance(self, data_fetcher: _DataFetcher) -> None:
        loop, trainer, module = self.loop, self.trainer, self.module
        if loop.restarting:
            return self.lightning_advance(data_fetcher)
        validation = loop.val_loop
        if validation.restarting:  # the setter walks every attribute of it for child loops
            validation.restarting = False
        if self.distributed:
            loop._broadcast_sigterm_tensor()
        batch, _, _ = next(data_fetcher)
        batch_idx = loop.batch_idx + 1
        progress = loop.batch_progress
        progress.is_last_batch = data_fetcher.done
        if self.transfers or not _batch_on(batch, self.device):
            batch = trainer.precision_plugin.convert_input(batch)
            batch = module._on_before_batch_transfer(batch, dataloader_idx=0)
            batch = trainer.strategy.batch_to_device(batch, dataloader_idx=0)
        progress.increment_ready()
        results = loop._results
        self._on_batch_start(trainer._logger_connector, results, batch)
        in_hook(module, "on_train_batch_start")
        for hook in self.batch_start_hooks:
            hook(trainer, module, batch, batch_idx)
        progress.increment_started()
        output = self._training_step(batch, batch_idx)
        progress.increment_processed()
        in_hook(module, "on_train_batch_end")
        step, last = 0, True
        if self.periodic_batch_ends:
            step = module.current_training_step
            last = module.stops_after(step, batch_idx)
        for hook, interval in self.batch_end_hooks:
            if interval == 1 or last or (interval and step % interval == 0):
                hook(trainer, module, output, batch, batch_idx)
        if self.module_batch_end:
            module.on_train_batch_end(output, batch, batch_idx)
        in_hook(module, None)
        # Lightning's logger connector after a batch; with nothing logged through `self.log`
        # (gan-arena writes its rows itself), there is only the batch to forget.
        if results:
            trainer._logger_connector.on_batch_end()
        else:
            results.batch = results.batch_size = None
        progress.increment_completed()
        if results:
            trainer._logger_connector.update_train_step_metrics()

    @staticmethod
    def _on_batch_start(connector: _LoggerConnector, results: _ResultCollection, batch) -> None:
        """`_LoggerConnector.on_batch_start`, given the epoch loop's results: Lightning's looks
        them up through the trainer's active loop and its state, a dozen calls."""
        if connector._first_loop_iter is None:
            connector._first_loop_iter = True
        elif connector._first_loop_iter is True:
            connector._first_loop_iter = False
        results.batch = batch
        results.batch_size = None
        results.dataloader_idx = None

    def _training_step(self, batch: object, batch_idx: int) -> dict:
        """`_ManualOptimization.run` with the strategy's training step, when that only calls the
        module's under the precision's context (else Lightning's own)."""
        manual = self.loop.manual_optimization
        if not self.direct_training_step:
            return manual.run(OrderedDict(batch=batch, batch_idx=batch_idx))
        strategy, module = self.trainer.strategy, self.module
        for optimizer in strategy._lightning_optimizers:
            optimizer._on_before_step = manual._on_before_step
            optimizer._on_after_step = manual._on_after_step
        in_hook(module, "training_step")
        if self.step_context is None:
            output = module.training_step(batch, batch_idx)
        else:
            with self.step_context():
                output = module.training_step(batch, batch_idx)
        for optimizer in strategy._lightning_optimizers:
            optimizer._on_before_step = optimizer._on_after_step = do_nothing_closure
        return {} if output is None else ManualResult.from_training_step_output(output).asdict()

    def on_advance_end(self, data_fetcher: _DataFetcher) -> None:
        """Lightning's, less validation (none runs) and the schedulers (manual optimization
        steps none)."""
        loop, trainer = self.loop, self.trainer
        loop._batches_that_stepped += 1
        if trainer.should_stop:
            for logger in trainer.loggers:
                logger.save()
        if trainer.received_sigterm and not loop._is_training_done:
            raise SIGTERMException
