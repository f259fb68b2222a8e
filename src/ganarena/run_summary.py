"""What a run says about itself: a summary at its start, a line at its end, and none of the
library messages that say nothing true of it.

The summary is the short answer to what the run is (`python src/train.py --cfg job` stays
the full one), with where each setting that the user did not choose came from
(`ganarena.provenance`); rank 0 says it once. Under a sweep (`-m`) the whole summary goes to
the job's log file and the console gets one line per job.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from typing import Any

import lightning.pytorch as pl

from ganarena.provenance import Provenance
from ganarena.run_length import planned_training_steps

log = logging.getLogger("ganarena")


def sources(provenance: Provenance, *groups: str) -> str:
    """`  [model: compact, chosen by data=digits; lr: tuned (...)]` for a line, or ''."""
    notes = [f"{g}: {provenance.choices[g]}" for g in groups if g in provenance.choices]
    by_source: dict[str, list[str]] = {}
    for key, source in provenance.settings.items():
        group = next((g for g in groups if key == g or key.startswith(f"{g}.")), None)
        if group is not None and not source.startswith(f"{group} ("):  # the choice says it
            name = key.removeprefix(f"{group}.") if key != group else key
            by_source.setdefault(source, []).append(group if name == "_target_" else name)
    notes += [f"{', '.join(keys)}: {source}" for source, keys in by_source.items()]
    notes = list(dict.fromkeys(notes))  # a group chosen and its `_target_` set alike
    return f"  [{'; '.join(notes)}]" if notes else ""


def optimizer_text(optimizer: Any) -> str:
    group = optimizer.param_groups[0]
    betas = group.get("betas")
    text = f"{type(optimizer).__name__} lr {group['lr']:g}"
    return text + (f" betas ({betas[0]:g}, {betas[1]:g})" if betas else "")


def parameters(network: Any) -> str:
    return f"{type(network).__name__} ({sum(p.numel() for p in network.parameters()):,})"


def summary_lines(trainer: pl.Trainer, module: Any, provenance: Provenance, output_dir: str):
    """The summary, one line per concern, each with where its settings came from."""
    data, loss = trainer.datamodule, module.loss
    steps = planned_training_steps(trainer, loss.n_critic)
    length = "until stopped" if steps is None else f"{steps:,} training steps"
    size = "samples" if data.train_dataset is None else f"{len(data.train_dataset):,} samples"
    penalties = ", ".join(type(p).__name__ for p in loss.penalties) or "none"
    g_optimizer, d_optimizer = trainer.optimizers
    schedule = "constant" if module.lr_schedule is None else repr(module.lr_schedule)
    processes = "process" if trainer.world_size == 1 else "processes"
    devices = f"{trainer.world_size} {trainer.strategy.root_device.type} {processes}"
    loggers = ", ".join(type(logger).__name__ for logger in trainer.loggers) or "none"
    lines = [
        f"run: {type(loss).__name__} on {data.name}, {length} "
        f"({trainer.num_training_batches:,} per epoch)"
        + sources(provenance, "trainer", "train_steps"),
        f"  data: {size} of {'x'.join(map(str, data.sample_shape))}, batch {data.batch_size}"
        + sources(provenance, "data"),
        f"  networks: G {parameters(module.generator)}, D {parameters(module.discriminator)}"
        + sources(provenance, "model", "model/discriminator"),
        f"  loss: n_critic {loss.n_critic}, penalties: {penalties}" + sources(provenance, "loss"),
        f"  optimizers: G {optimizer_text(g_optimizer)}, D {optimizer_text(d_optimizer)}"
        + sources(provenance, "optimizer"),
        f"  learning rates: {schedule}" + sources(provenance, "lr_schedule"),
        f"  devices: {devices}, precision {trainer.precision}",
        f"  loggers: {loggers}; outputs in {output_dir}",
    ]
    if provenance.tuned:
        lines.append(
            f"  tuned settings: configs/tuned/{provenance.tuned}.yaml applied; ~tuned trains "
            "the loss preset as published"
        )
    return lines


class RunSummary(pl.Callback):
    """Logs the summary when training starts, on rank 0 (added by `ganarena.training`)."""

    def __init__(
        self, provenance: Provenance, output_dir: str, job: Mapping[str, Any] | None = None
    ) -> None:
        self.provenance = provenance
        self.output_dir = output_dir
        #: Under a sweep, the job's number and log file: the console then gets one line.
        self.job = job

    def on_train_start(self, trainer: pl.Trainer, pl_module: Any) -> None:
        if not trainer.is_global_zero:
            return
        lines = summary_lines(trainer, pl_module, self.provenance, self.output_dir)
        if self.job is None:
            log.info("\n".join(lines))
            return
        record = log.makeRecord(log.name, logging.INFO, __file__, 0, "\n".join(lines), (), None)
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.FileHandler):
                handler.handle(record)
        log.info("job %s: %s; its summary is in %s", self.job["num"], lines[0], self.job["log"])


#: Library messages that say nothing true of a gan-arena run: Lightning's ModelCheckpoint
#: warns about pre-optimization state under manual optimization (the checkpoint holds the
#: state after the training step, which is what resuming needs), about fewer batches per
#: epoch than the logging interval (the rows count training steps across epochs), Lightning
#: calls a torch function deprecated in torch 2.10, and it advertises a logger at start-up.
QUIET_WARNINGS = (
    "Using ModelCheckpoint with manual optimization",
    r"The number of training batches \(\d+\) is smaller than the logging interval",
    r"`isinstance\(treespec, LeafSpec\)` is deprecated",
)
QUIET_INFO = ("💡 Tip:",)


class DropMessages(logging.Filter):
    def __init__(self, starts: tuple[str, ...]) -> None:
        super().__init__()
        self.starts = starts

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.starts)


def quiet_library_messages() -> None:
    for message in QUIET_WARNINGS:
        warnings.filterwarnings("ignore", message=message)
    rank_zero = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    if not any(isinstance(f, DropMessages) for f in rank_zero.filters):
        rank_zero.addFilter(DropMessages(QUIET_INFO))


def closing_summary(module: Any, seconds: float, output_dir: str) -> str:
    """One line at the end of a run: its length and time, FID (final and best), outputs."""
    minutes, rest = divmod(round(seconds), 60)
    line = f"finished {module.training_steps:,} training steps in {minutes} min {rest:02d} s"
    fid = [(row["val/fid"], step) for step, row in module.logger_rows.history if "val/fid" in row]
    if fid:
        best, best_step = min(fid)
        line += f"; FID {fid[-1][0]:.2f} at the end, best {best:.2f} at step {best_step:,}"
    return f"{line}; outputs in {output_dir}"
