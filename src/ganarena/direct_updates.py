"""Optimizer updates without Lightning's per-step hook dispatch, where nothing listens to it.

Under manual optimization each `manual_backward` and `LightningOptimizer.step` calls
`on_before_backward`, `on_after_backward` and `on_before_optimizer_step` on every callback
and on the module, through the precision plugin's closure and the profiler's contexts: a
few percent of a small GAN step on a CPU (docs/benchmarks.md). Where nothing overrides
those hooks, the precision does nothing at the backward or the step (32-bit, or autocast with
no gradient scaler) and no profiler runs, `GANModule` calls `loss.backward()` and the
optimizer itself, averages the gradients as `gan_ddp` would, and counts the step as
`LightningOptimizer.step` does: the same update.

Logging steps always go through Lightning's path, so a callback that needs the hooks only on
those (`update_hooks_on_logging_steps_only = True`, as `TrainingDiagnostics`) keeps them.
"""

from __future__ import annotations

import lightning.pytorch as pl
from lightning.pytorch.core.optimizer import LightningOptimizer
from lightning.pytorch.plugins.precision import MixedPrecision, Precision
from lightning.pytorch.profilers import PassThroughProfiler
from lightning.pytorch.strategies import SingleDeviceStrategy
from torch import Tensor

from ganarena.compat import counted_step, optimizer_step_progress, overrides
from ganarena.distributed import GANDDPStrategy

#: What Lightning calls around each manual backward and optimizer step.
UPDATE_HOOKS = ("on_before_backward", "on_after_backward", "on_before_optimizer_step")
#: The module's hooks on that path: the three above, its backward and its gradient clipping.
MODULE_UPDATE_HOOKS = (*UPDATE_HOOKS, "backward", "configure_gradient_clipping")


def overridden(instance: object, base: type, names: tuple[str, ...]) -> list[str]:
    """The methods of `names` that `instance`'s class defines other than `base` does."""
    return [name for name in names if overrides(instance, base, name)]


def why_lightning_updates(trainer: pl.Trainer, module: pl.LightningModule) -> str | None:
    """Why every update must go through Lightning's path; None when none needs it."""
    precision = trainer.precision_plugin
    plain = type(precision) is Precision or (
        type(precision) is MixedPrecision and precision.scaler is None
    )
    if not plain:
        return f"the precision plugin {type(precision).__name__} acts at backward or step"
    if type(trainer.strategy) not in (SingleDeviceStrategy, GANDDPStrategy):
        return f"the strategy {type(trainer.strategy).__name__}"
    if not isinstance(trainer.profiler, PassThroughProfiler):
        return f"the profiler {type(trainer.profiler).__name__} times the hooks"
    if trainer.gradient_clip_val:
        return "trainer.gradient_clip_val is set"
    if hooks := overridden(module, pl.LightningModule, MODULE_UPDATE_HOOKS):
        return f"{type(module).__name__} overrides {', '.join(hooks)}"
    for callback in trainer.callbacks:
        if getattr(callback, "update_hooks_on_logging_steps_only", False):
            continue
        if hooks := overridden(callback, pl.Callback, UPDATE_HOOKS):
            return f"the callback {type(callback).__name__} implements {', '.join(hooks)}"
    return None


class DirectUpdate:
    """Zeroed gradients, backward and step, as `optimizer.zero_grad(set_to_none=True)`,
    `manual_backward(loss)` and `optimizer.step()` do with no hooks;
    what it needs of the trainer is looked up once per fit, not on every update."""

    def __init__(self, trainer: pl.Trainer) -> None:
        self.progress = optimizer_step_progress(trainer)
        strategy = trainer.strategy
        #: Averages the gradients over the ranks as `gan_ddp` would; None on one device.
        self.reduce_gradients = (
            strategy.reduce_gradients if isinstance(strategy, GANDDPStrategy) else None
        )

    def __call__(self, optimizer: LightningOptimizer, loss: Tensor) -> None:
        raw = optimizer.optimizer  # the torch optimizer: its own attributes, no forwarding
        raw.zero_grad(set_to_none=True)
        loss.backward()
        if self.reduce_gradients is not None:
            self.reduce_gradients(raw)
        counted_step(self.progress, raw.step)
