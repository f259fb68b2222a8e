"""Optimizer updates without Lightning's per-step hook dispatch, where nothing listens to it.

Under manual optimization each `manual_backward` and `LightningOptimizer.step` calls
`on_before_backward`, `on_after_backward` and `on_before_optimizer_step` on every callback
and on the module, through the precision plugin's closure and the profiler's contexts: a
few percent of a small GAN step on a CPU (docs/benchmarks.md). Where nothing overrides
those hooks, the precision does nothing at the backward or the step (32-bit, or autocast with
no gradient scaler) and no profiler runs, `GANModule` calls `loss.backward()` and the
optimizer itself, averages the gradients as `gan_ddp` would, and counts the step as
`LightningOptimizer.step` does: the same update.

A callback that needs those hooks only on logging steps (`update_hooks_on_logging_steps_only =
True`, as `TrainingDiagnostics`) gets them there from the direct update itself, in Lightning's
order and with the same arguments, without the dispatch over every callback.
"""

from __future__ import annotations

from collections.abc import Callable

import lightning.pytorch as pl
from lightning.pytorch.core.optimizer import LightningOptimizer
from lightning.pytorch.plugins.precision import MixedPrecision, Precision
from lightning.pytorch.profilers import PassThroughProfiler
from lightning.pytorch.strategies import SingleDeviceStrategy
from torch import Tensor

from ganarena.compat import counted_step, in_hook, optimizer_step_progress, overrides
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
    `manual_backward(loss)` and `optimizer.step()` do; with `hooks`, calling the update
    hooks of the callbacks that implement them (those that listen on logging steps only).
    What it needs of the trainer is looked up once per fit, not on every update."""

    def __init__(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        self.trainer, self.module = trainer, module
        self.progress = optimizer_step_progress(trainer)
        strategy = trainer.strategy
        #: Averages the gradients over the ranks as `gan_ddp` would; None on one device.
        self.reduce_gradients = (
            strategy.reduce_gradients if isinstance(strategy, GANDDPStrategy) else None
        )
        #: Each update hook's implementations among the callbacks, in the trainer's order.
        self.listeners: dict[str, list[Callable[..., object]]] = {
            name: [
                getattr(callback, name)
                for callback in trainer.callbacks
                if overrides(callback, pl.Callback, name)
            ]
            for name in UPDATE_HOOKS
        }

    def __call__(self, optimizer: LightningOptimizer, loss: Tensor, hooks: bool = False) -> None:
        raw = optimizer.optimizer  # the torch optimizer: its own attributes, no forwarding
        raw.zero_grad(set_to_none=True)
        if hooks:
            self._call("on_before_backward", loss)
        loss.backward()
        if hooks:
            self._call("on_after_backward")
        if self.reduce_gradients is not None:
            self.reduce_gradients(raw)
        if hooks:
            self._call("on_before_optimizer_step", raw)
        counted_step(self.progress, raw.step)

    def _call(self, name: str, *args: object) -> None:
        """The callbacks' `name` hooks, the module told which hook runs, as Lightning does."""
        listeners = self.listeners[name]
        if not listeners:
            return
        module = self.module
        running = module._current_fx_name
        in_hook(module, name)
        for hook in listeners:
            hook(self.trainer, module, *args)
        in_hook(module, running)
