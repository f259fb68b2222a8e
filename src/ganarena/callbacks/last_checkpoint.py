"""`last.ckpt`: the point a run resumes from, kept fresh and written so that a kill never spoils it.

It is written every `every_n_steps` training steps, every `every_minutes` minutes, on the
last step of the run, and at the step boundary after a request to stop:
SIGTERM (what a scheduler sends before it kills a job), SIGINT (Ctrl+C) or a cluster's
preemption signal
(SIGUSR1 or SIGUSR2, when a handler such as submitit's is installed for it: that handler then
requeues the job, after the checkpoint is on disk). Each write goes to a temporary file that
is renamed over `last.ckpt`, so a kill during the write leaves the previous one intact.

Under DDP the ranks agree on every decision (one small all-reduce per training step), since
saving is a collective and every rank must stop at the same step. From the first training
step SIGTERM is taken here too, in place of Lightning's handler: that one broadcasts inside
the signal handler, where the broadcast can meet another collective of the other rank (a
gradient all-reduce) and leave both waiting for ever. (Lightning puts its handler back when
the fit ends.) A SIGTERM before the first step, which Lightning acts on, ends the fit with
its `SIGTERMException`: the checkpoint is written then, in `on_exception`.
"""

from __future__ import annotations

import logging
import shlex
import signal
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.utilities.exceptions import SIGTERMException

from ganarena.gan_module import GANModule
from ganarena.ranks import agree, distributed
from ganarena.run_record import RunInterrupted

log = logging.getLogger(__name__)

LAST = "last.ckpt"
#: Signals a cluster sends before preempting a job; caught only when a handler already waits.
CLUSTER_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGUSR1", "SIGUSR2") if hasattr(signal, name)
)


def resume_command(output_dir: str) -> str:
    """The command that continues this run in its own directory."""
    try:
        from hydra.core.hydra_config import HydraConfig

        overrides = list(HydraConfig.get().overrides.task)
    except ValueError:  # not started by Hydra
        overrides = []
    kept = [o for o in overrides if not o.lstrip("+~").startswith(("resume=", "ckpt_path="))]
    arguments = [*kept, "resume=auto", f"hydra.run.dir={output_dir}"]
    return " ".join(["python src/train.py", *(shlex.quote(argument) for argument in arguments)])


class LastCheckpoint(pl.Callback):
    def __init__(
        self,
        dirpath: str,
        every_n_steps: int = 500,
        every_minutes: float | None = 10.0,
        output_dir: str | None = None,
    ) -> None:
        self.path = Path(dirpath) / LAST
        self.every_n_steps = every_n_steps
        self.every_minutes = every_minutes
        self.output_dir = output_dir or str(Path(dirpath).parent)
        self._saved_step = -1
        self._last_save = time.monotonic()
        self._stop_signal: int | None = None
        self._previous_handlers: dict[int, Any] = {}
        #: The device the ranks agree on their decisions through; None in one process.
        self._ranks: torch.device | None = None
        #: Why the fit stopped, when Lightning stopped it for a SIGTERM (`on_exception`).
        self.stop_message: str | None = None

    # -- signals ---------------------------------------------------------------------------
    def setup(self, trainer: pl.Trainer, pl_module: GANModule, stage: str) -> None:
        self._stop_signal = None
        self._last_save = time.monotonic()
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set from the main thread
        self._catch(signal.SIGINT)
        for signum in CLUSTER_SIGNALS:
            if callable(signal.getsignal(signum)):
                self._catch(signum)

    def _catch(self, signum: int) -> None:
        self._previous_handlers[signum] = signal.getsignal(signum)
        signal.signal(signum, self._request_stop)

    def _request_stop(self, signum: int, frame: FrameType | None) -> None:
        if self._stop_signal == signal.SIGINT and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl+C: stop now
        self._stop_signal = signum
        log.warning(
            "%s received: saving at the end of this training step", signal.Signals(signum).name
        )

    def teardown(self, trainer: pl.Trainer, pl_module: GANModule, stage: str) -> None:
        for signum, handler in self._previous_handlers.items():
            if signal.getsignal(signum) == self._request_stop:  # Lightning restores SIGTERM's
                signal.signal(signum, handler)
        self._previous_handlers = {}

    # -- when to save ----------------------------------------------------------------------
    def _decide(self, trainer: pl.Trainer, step: int) -> tuple[bool, bool]:
        """(save now, stop after it), the same on every rank."""
        stop = self._stop_signal is not None or trainer.received_sigterm
        due = self.every_n_steps > 0 and step % self.every_n_steps == 0
        if not due and self.every_minutes is not None:
            due = time.monotonic() - self._last_save >= 60 * self.every_minutes
        if self._ranks is not None:
            stop, due = agree([stop, due], self._ranks)
        return stop or due, stop

    def on_train_start(self, trainer: pl.Trainer, pl_module: GANModule) -> None:
        self._ranks = trainer.strategy.root_device if distributed() else None
        if threading.current_thread() is threading.main_thread():
            self._catch(signal.SIGTERM)  # here: Lightning installs its own after `setup`

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: GANModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        step = pl_module.training_steps
        save, stop = self._decide(trainer, step)
        # The run's last step is saved here too, in the step, not at the end of fit: Lightning
        # then resumes inside the epoch where the run stopped (a budget stop included), rather
        # than starting a new one. Other epoch ends are not saved: on small data an epoch is a
        # few dozen steps, and a save per epoch cost more than the steps between them.
        if save or pl_module.is_last_step:
            self.save(trainer, step)
        if stop:
            self._stop(trainer, step)

    def on_train_end(self, trainer: pl.Trainer, pl_module: GANModule) -> None:
        self.save(trainer, pl_module.training_steps)

    def on_exception(
        self, trainer: pl.Trainer, pl_module: GANModule, exception: BaseException
    ) -> None:
        """Lightning stopped the fit for a SIGTERM between two steps: save where it stopped,
        and say how to resume (`stop_message`)."""
        if isinstance(exception, SIGTERMException):
            step = pl_module.training_steps
            self.save(trainer, step)
            self.stop_message = self._stopped("SIGTERM", step)

    # -- saving and stopping -------------------------------------------------------------------
    def save(self, trainer: pl.Trainer, step: int) -> None:
        """Write `last.ckpt` through a temporary file (every rank takes part)."""
        if step == self._saved_step:
            return
        partial = self.path.with_name(f".{LAST}.partial")
        try:
            trainer.save_checkpoint(partial, weights_only=False)  # by rank 0; ends in a barrier
            if trainer.is_global_zero:
                partial.replace(self.path)
        except BaseException:
            partial.unlink(missing_ok=True)  # a failed write (a full disk, a kill) leaves none
            raise
        self._saved_step = step
        self._last_save = time.monotonic()

    def _stop(self, trainer: pl.Trainer, step: int) -> None:
        signum = self._stop_signal if self._stop_signal is not None else signal.SIGTERM
        name = signal.Signals(signum).name
        handler = self._previous_handlers.get(signum)
        if signum in CLUSTER_SIGNALS and callable(handler):
            handler(signum, None)  # the cluster's requeue (submitit's exits on rank 0)
        raise RunInterrupted(self._stopped(name, step))

    def _stopped(self, signal_name: str, step: int) -> str:
        return (
            f"stopped by {signal_name} at training step {step}; {self.path} holds it: resume "
            f"with `{resume_command(self.output_dir)}`"
        )
