"""One prepared check of gan-arena on a GPU: does training run correctly on CUDA, and how fast?

GPUs are lent for minutes at a time, so the whole check is one call that writes a table:

1. Correctness: short runs of `python src/train.py` (in this process, through
   `ganarena.training.train`, with the default callbacks less the sample metrics) of the
   default run, `loss=wgan_gp`, `loss=r3gan augment=ada`, `model=resnet` at 32x32 and a
   projection-conditioned SNDCGAN, in fp32 and bf16-mixed, eager and `compile=true`. Each
   checks that every logged loss is finite; that `last.ckpt` is written at the last step and
   holds finite weights; that the first step's D and G losses are the CPU's for the same seed
   (the step's random draws made on the CPU, since CUDA's generator draws other numbers;
   within FIRST_STEP_TOLERANCE); and that no step that does not log synchronises with the
   host (`torch.cuda.set_sync_debug_mode("error")` around those steps; not on a CPU).
2. Speed and memory: steps/s, images/s and peak GPU memory of the hand-written loop
   (`step_overhead.HandStep`, eager, fp32) and of the user's path (`train`, default callbacks
   and the progress bar, CSV logger, less the sample metrics) eager, compiled, compiled with
   CUDA graphs (`compile=reduce-overhead`), in bf16, channels-last, with the data on the
   device, and all of these at once, for the DCGAN, SNDCGAN and ResNet pairs on the digits
   at 32x32 and 64x64, batch 64 and 256; each row against the hand-written loop of its
   configuration, measured in the same process.

Work runs in order of priority (eager before compiled) within `--budget` seconds; what the
budget leaves out is listed as not run. The results are rewritten after every run, so a
stopped call keeps what it measured.

    python benchmarks/gpu_check.py --out results/gpu            # on a GPU: at most 8 minutes
    python benchmarks/gpu_check.py --device cpu --quick --out /tmp/check   # every path, tiny
    python benchmarks/gpu_check.py --only speed --models resnet --sizes 64 --out results/gpu
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import logging
import math
import os
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from itertools import product
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig
from step_overhead import SAMPLE_METRICS, hand_written

from ganarena.config import compose_job
from ganarena.run_length import ends_fit
from ganarena.training import train

os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")

#: The correctness runs: `python src/train.py` with these overrides (ResNet at 32x32 on a GPU).
CASES = {
    "default": [],
    "wgan_gp": ["loss=wgan_gp"],
    "r3gan_ada": ["loss=r3gan", "augment=ada"],
    "resnet": ["model=resnet"],  # at 32x32 (8x8 in --quick)
    "projection": ["conditioning=projection", "model=sndcgan"],
}
NETWORKS = ("generator", "discriminator")
PRECISIONS = {"fp32": "32-true", "bf16": "bf16-mixed"}
#: |GPU - CPU| <= atol + rtol·|CPU| for the first step's losses, by precision: fp32 runs use
#: TF32 matrix products on a GPU (`train` sets matmul precision "high"), bf16 has 8 bits.
FIRST_STEP_TOLERANCE = {"fp32": (1e-2, 1e-3), "bf16": (2e-2, 2e-2)}
#: Steps before the sync check begins: the first runs on CPU draws (copied over, a sync),
#: compilation and CUDA-graph recording synchronise.
SYNC_WARMUP = 5

MODELS = {"dcgan": ["model=dcgan"], "sndcgan": ["model=sndcgan"], "resnet": ["model=resnet"]}
#: The user's path in each speed row (those named "compile..." run after every eager row).
#: COMPILE stands for `--compile-with` (`compile_default`).
COMPILE = "<compile>"
PATHS: dict[str, list[str]] = {
    "eager": [],
    "bf16": ["trainer.precision=bf16-mixed"],
    "channels-last": ["module.channels_last=true"],
    "data on device": ["module.data_on_device=true"],
    "compile": [f"compile={COMPILE}"],
    "compile, CUDA graphs": ["compile=reduce-overhead"],
    "all: bf16, compile, channels-last, data on device": [
        "trainer.precision=bf16-mixed", f"compile={COMPILE}",
        "module.channels_last=true", "module.data_on_device=true",
    ],
}  # fmt: skip
#: The logger of inductor's reasons for running a compiled graph without CUDA graphs.
CUDAGRAPH_LOG = "torch._inductor.cudagraph_utils.__cudagraphs"
#: First guesses of a task's seconds (a GPU), before one of its kind has run.
GUESS_S = {"eager": 8.0, "compiled": 45.0}

#: The callbacks this script adds to the correctness runs, as Hydra builds them, by kind.
BUILT_HERE = ("FirstStep", "QuietStepSyncCheck")
BUILT: dict[str, list[pl.Callback]] = {}


@dataclass
class Settings:
    """What one call runs, and at which sizes."""

    device: str
    quick: bool
    budget_s: float
    out: Path
    compile_with: str
    cases: list[str]
    models: list[str]
    sizes: list[int]
    batches: list[int]
    paths: list[str]
    only: str | None
    correctness_steps: int = 200
    log_every: int = 50
    seconds_per_row: float = 1.0
    warmup: int = 10
    timed_steps: tuple[int, int] = (10, 400)
    #: --quick: networks named with model=... at this width, correctness runs at this batch.
    width: int | None = None
    correctness_batch: int | None = None
    resnet_size: int = 32

    def tiny(self) -> None:
        """--quick: every code path at tiny sizes, a few steps."""
        self.correctness_steps, self.log_every, self.warmup = 4, 2, 1
        self.seconds_per_row, self.timed_steps = 0.0, (2, 2)
        self.sizes, self.batches, self.resnet_size = [8], [8], 8
        self.width, self.correctness_batch = 16, 8

    def sized(self, overrides: list[str]) -> list[str]:
        """`overrides` with --quick's narrow networks and small batches."""
        if self.width and any(o.startswith("model=") for o in overrides):
            overrides = [*overrides, *(f"model.{n}.width={self.width}" for n in NETWORKS)]
        if self.correctness_batch and not any("batch_size" in o for o in overrides):
            overrides = [*overrides, f"data.batch_size={self.correctness_batch}"]
        return overrides


# -- the runs ---------------------------------------------------------------------------------
def compose_user_run(overrides: list[str], output_dir: Path) -> DictConfig:
    """`configs/train.yaml` composed as `python src/train.py <overrides>` would."""
    return compose_job(overrides, output_dir)


def trainer_overrides(device: str, precision: str = "32-true") -> list[str]:
    if device == "cpu":
        return ["trainer=cpu", f"trainer.precision={precision}"]
    return ["trainer=gpu", f"trainer.precision={precision}"]


def callback(name: str, target: str, **options: Any) -> str:
    """The override that adds the callback `target` (with `options`) to a run as `name`."""
    values = "".join(f", {key}: {value!r}" for key, value in options.items())
    return f"+callbacks.{name}={{_target_: {target}{values}}}"


def built(kind: str) -> Any:
    """The callback `kind` that the last run built."""
    return BUILT[kind][-1]


@contextlib.contextmanager
def draws_on_the_cpu() -> Iterator[None]:
    """torch's random draws made on the CPU and moved where they were asked for, so that a
    CUDA step draws the CPU run's numbers for the same seed."""
    names = ("randn", "rand", "randint", "randn_like", "rand_like")
    originals = {name: getattr(torch, name) for name in names}

    def on_cpu(draw: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
        def drawn(*args: Any, device: Any = None, **kwargs: Any) -> torch.Tensor:
            value = draw(*args, **kwargs)
            return value if device is None else value.to(device)

        return drawn

    patched = {name: on_cpu(originals[name]) for name in ("randn", "rand", "randint")}
    for name, draw in {**patched, **like(patched)}.items():
        setattr(torch, name, draw)
    try:
        yield
    finally:
        for name, draw in originals.items():
            setattr(torch, name, draw)


def like(draws: dict[str, Callable[..., torch.Tensor]]) -> dict[str, Callable[..., torch.Tensor]]:
    """`randn_like` and `rand_like` through `draws`."""

    def made(draw: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
        def drawn(x: torch.Tensor, dtype: Any = None, device: Any = None, **_: Any):
            return draw(x.shape, dtype=dtype or x.dtype, device=device or x.device)

        return drawn

    return {"randn_like": made(draws["randn"]), "rand_like": made(draws["rand"])}


class FirstStep(pl.Callback):
    """Keeps training step 1's D and G losses (on a GPU the step draws on the CPU), and the
    run's n_critic."""

    def __init__(self) -> None:
        self.losses: tuple[float, float] | None = None
        self.n_critic = 1
        self.draws: contextlib.ExitStack | None = None
        BUILT.setdefault("FirstStep", []).append(self)

    def on_train_start(self, trainer: pl.Trainer, module: Any) -> None:
        self.n_critic = module.loss.n_critic

    def on_train_batch_start(self, trainer: pl.Trainer, module: Any, *args: Any) -> None:
        if module.training_steps == 0 and module.device.type != "cpu":
            self.draws = contextlib.ExitStack()
            self.draws.enter_context(draws_on_the_cpu())

    def on_train_batch_end(self, trainer: pl.Trainer, module: Any, *args: Any) -> None:
        if module.training_steps == 1:
            self.restore()
            record = module.last_training_step
            self.losses = (float(record.discriminator_loss), float(record.generator_loss))

    def on_exception(self, *args: Any) -> None:
        self.restore()

    def restore(self) -> None:
        if self.draws is not None:
            self.draws.close()
            self.draws = None


class QuietStepSyncCheck(pl.Callback):
    """Makes every host-device synchronisation an error on the training steps that do not log
    (after SYNC_WARMUP), from this callback's batch-start hook to its batch-end hook (added
    last, so the other callbacks' batch-end hooks are inside); counts the steps checked."""

    def __init__(self) -> None:
        self.checked = 0
        self.active = False
        BUILT.setdefault("QuietStepSyncCheck", []).append(self)

    def on_train_batch_start(self, trainer: pl.Trainer, module: Any, batch: Any, index: int):
        step, every = module.training_steps + 1, trainer.log_every_n_steps
        logs = step % every == 0 or ends_fit(trainer, module.loss.n_critic, step, index)
        if module.device.type == "cuda" and step > SYNC_WARMUP and not logs:
            torch.cuda.set_sync_debug_mode("error")
            self.active = True

    def on_train_batch_end(self, *args: Any) -> None:
        if self.active:
            self.stop()
            self.checked += 1

    def on_exception(self, *args: Any) -> None:
        if self.active:
            self.stop()

    def stop(self) -> None:
        torch.cuda.set_sync_debug_mode("default")
        self.active = False


@contextlib.contextmanager
def fresh_run(log: Path) -> Iterator[Path]:
    """A temporary run folder; the run's printing goes to `log`, compiled graphs and cached
    memory go after it, and the peak memory counts from its start."""
    torch._dynamo.reset()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    with (
        tempfile.TemporaryDirectory() as folder,
        open(log, "a") as stream,
        contextlib.redirect_stdout(stream),
        contextlib.redirect_stderr(stream),
    ):
        try:
            yield Path(folder)
        finally:
            GlobalHydra.instance().clear()
            if torch.cuda.is_available():
                torch.cuda.set_sync_debug_mode("default")


def peak_memory(device: str) -> str:
    if device == "cpu":
        return "n/a"
    return f"{torch.cuda.max_memory_allocated() / 2**20:,.0f} MiB"


def failure(error: BaseException) -> str:
    """One line: the error and the innermost line of gan-arena, Lightning or this script
    that led to it."""
    frames = [
        f"{Path(frame.filename).name}:{frame.lineno}"
        for frame in traceback.extract_tb(error.__traceback__)
        if any(part in frame.filename for part in ("ganarena", "lightning", "benchmarks"))
    ]
    message = " ".join(str(error).split())[:300]
    return f"{type(error).__name__}: {message}" + (f" (at {frames[-1]})" if frames else "")


# -- correctness ------------------------------------------------------------------------------
def case_overrides(settings: Settings, case: str, steps: int) -> list[str]:
    overrides = [*CASES[case], f"train_steps={steps}", "logger=csv"]
    overrides += [f"~callbacks.{name}" for name in SAMPLE_METRICS]
    overrides += [f"trainer.log_every_n_steps={settings.log_every}"]
    overrides += [callback(kind.lower(), f"{__name__}.{kind}") for kind in BUILT_HERE]
    if case == "resnet":
        overrides.append(f"data.image_size={settings.resnet_size}")
    return settings.sized(overrides)


def first_step_on_cpu(settings: Settings, case: str) -> tuple[float, float]:
    """The CPU's first-step losses of `case`, fp32, eager."""
    overrides = [*case_overrides(settings, case, 1), *trainer_overrides("cpu")]
    with fresh_run(settings.out / "runs.log") as folder:
        train(compose_user_run(overrides, folder))
    return built("FirstStep").losses


def run_case(settings: Settings, case: str, precision: str, compiled: bool, reference) -> dict:
    """One correctness run on the device, and what it found."""
    steps = settings.correctness_steps
    overrides = [*case_overrides(settings, case, steps)]
    overrides += trainer_overrides(settings.device, PRECISIONS[precision])
    if compiled:
        overrides.append(f"compile={settings.compile_with}")
    row = {"run": case, "precision": precision, "compile": compiled, "steps": steps}
    started = time.monotonic()
    with fresh_run(settings.out / "runs.log") as folder:
        try:
            train(compose_user_run(overrides, folder))
        except Exception as error:  # the row says what failed; the other runs go on
            return {**row, "ok": False, "error": failure(error)}
        row["losses finite"] = losses_finite(folder)
        row["checkpoint"] = checkpoint_written(folder, steps, built("FirstStep").n_critic)
    row["seconds"] = round(time.monotonic() - started, 1)
    row.update(first_step_against(built("FirstStep").losses, reference, precision))
    checked = built("QuietStepSyncCheck").checked
    row["no sync on quiet steps"] = (
        f"ok: {checked} steps checked" if settings.device != "cpu" else "skipped: not on a CPU"
    )
    if settings.device != "cpu" and checked == 0:
        row["no sync on quiet steps"] = "FAIL: no step was checked"
    row["ok"] = all(
        not str(row[key]).startswith("FAIL")
        for key in ("losses finite", "checkpoint", "first step", "no sync on quiet steps")
    )
    return row


def losses_finite(folder: Path) -> str:
    """Every `train/` value in the run's CSV rows is finite (and there are some)."""
    with open(folder / "csv" / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    values = [float(v) for row in rows for k, v in row.items() if k.startswith("train/") and v]
    if not values:
        return "FAIL: no train/ values logged"
    bad = sum(not math.isfinite(v) for v in values)
    return f"FAIL: {bad} of {len(values)} not finite" if bad else f"ok: {len(values)} values"


def checkpoint_written(folder: Path, steps: int, n_critic: int) -> str:
    """`last.ckpt` is there, saved after the last step, with finite weights."""
    path = folder / "checkpoints" / "last.ckpt"
    if not path.is_file():
        return "FAIL: no last.ckpt"
    saved = torch.load(path, map_location="cpu", weights_only=False)
    if saved["global_step"] != steps * (n_critic + 1):
        return f"FAIL: saved at optimizer step {saved['global_step']}"
    weights = [v for v in saved["state_dict"].values() if torch.is_tensor(v)]
    weights = [w for w in weights if w.is_floating_point()]
    if not all(bool(torch.isfinite(w).all()) for w in weights):
        return "FAIL: weights not finite"
    return f"ok: step {steps}"


def first_step_against(losses, reference, precision: str) -> dict:
    rtol, atol = FIRST_STEP_TOLERANCE[precision]
    gaps = [abs(a - b) for a, b in zip(losses, reference, strict=True)]
    within = all(g <= atol + rtol * abs(b) for g, b in zip(gaps, reference, strict=True))
    text = f"ΔD {gaps[0]:.1e}, ΔG {gaps[1]:.1e}"
    return {
        "first step": ("ok: " if within else "FAIL: ") + text,
        "first step losses": list(losses),
        "cpu first step losses": list(reference),
    }


# -- speed ------------------------------------------------------------------------------------
def configuration(settings: Settings, model: str, size: int, batch: int) -> list[str]:
    return settings.sized([*MODELS[model], f"data.image_size={size}", f"data.batch_size={batch}"])


def hand_written_row(settings: Settings, model: str, size: int, batch: int) -> dict:
    """The eager hand-written loop, timed over about `seconds_per_row`."""
    overrides = configuration(settings, model, size, batch)
    low, high = settings.timed_steps
    with fresh_run(settings.out / "runs.log"):
        if settings.device == "cuda":
            torch.backends.cudnn.benchmark = True  # as trainer=gpu sets it for the user's path
        steps = low
        if high > low:
            probe = hand_written(overrides, low, settings.warmup, settings.device) / low
            steps = min(high, max(low, math.ceil(settings.seconds_per_row / probe)))
        seconds = hand_written(overrides, steps, settings.warmup, settings.device)
    return speed_row(settings, model, size, batch, "hand-written loop", steps, seconds)


def user_row(settings: Settings, model: str, size: int, batch: int, path: str, steps: int) -> dict:
    """The user's path `path` over the hand-written loop's number of timed steps."""
    if path == "compile, CUDA graphs" and settings.device == "cpu":
        return speed_row(settings, model, size, batch, path, note="not run: needs CUDA")
    warmup = settings.warmup
    with fresh_run(settings.out / "runs.log") as folder:
        timing = folder / "timing.json"
        timer = callback("timer", "step_overhead.StepTimer", warmup=warmup,
                         last=warmup + steps, path=str(timing))  # fmt: skip
        overrides = [  # the path's own last: its trainer.precision wins
            *trainer_overrides(settings.device), *configuration(settings, model, size, batch),
            f"train_steps={warmup + steps + 1}", "logger=csv", timer,
            *(f"~callbacks.{name}" for name in SAMPLE_METRICS),
            *(o.replace(COMPILE, settings.compile_with) for o in PATHS[path]),
        ]  # fmt: skip
        try:
            with cudagraph_skips() as skipped:
                train(compose_user_run(overrides, folder))
        except Exception as error:
            return speed_row(settings, model, size, batch, path, note=f"failed: {failure(error)}")
        seconds = json.loads(timing.read_text())["seconds"]
    note = f"CUDA graphs skipped: {'; '.join(sorted(set(skipped)))}"[:300] if skipped else ""
    return speed_row(settings, model, size, batch, path, steps, seconds, note)


class Collected(logging.Handler):
    """Keeps the first line of every message a logger writes."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage().splitlines()[0])


@contextlib.contextmanager
def cudagraph_skips() -> Iterator[list[str]]:
    """Why inductor ran a graph without CUDA graphs, while inside (what `TORCH_LOGS=cudagraphs`
    prints; GPU graphs only: a CPU graph skips them without a word)."""
    logger, handler = logging.getLogger(CUDAGRAPH_LOG), Collected()
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


def speed_row(
    settings: Settings, model: str, size: int, batch: int, path: str,
    steps: int = 0, seconds: float = 0.0, note: str = "",
) -> dict:  # fmt: skip
    rate = steps / seconds if seconds else None
    return {
        "model": model, "size": size, "batch": batch, "path": path, "timed steps": steps,
        "steps/s": rate, "images/s": rate * batch if rate else None,
        "peak memory": peak_memory(settings.device) if rate else "", "note": note,
    }  # fmt: skip


# -- the plan, within the budget --------------------------------------------------------------
@dataclass
class Task:
    """One run of the check: its kind (eager or compiled, for the time it may take), its
    priority (PRIORITY) and what it does."""

    part: str
    name: str
    kind: str
    priority: int
    run: Callable[[], dict]


class Report:
    """The rows so far, written out after every task."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.correctness: list[dict] = []
        self.speed: list[dict] = []
        self.not_run: list[str] = []
        self.failed: list[str] = []
        self.machine = describe_machine(settings.device)

    def add(self, part: str, row: dict) -> None:
        (self.correctness if part == "correctness" else self.speed).append(row)
        self.write()

    def write(self) -> None:
        out = self.settings.out
        (out / "gpu_check.md").write_text(self.markdown())
        data = {
            "machine": self.machine,
            "settings": {k: str(v) for k, v in vars(self.settings).items()},
            "first_step_tolerance": FIRST_STEP_TOLERANCE,
            "correctness": self.correctness,
            "speed": self.speed,
            "not_run": self.not_run,
            "failed": self.failed,
        }
        (out / "gpu_check.json").write_text(json.dumps(data, indent=2, default=str))

    def markdown(self) -> str:
        lines = [f"# gan-arena GPU check: {self.machine['summary']}"]
        if self.settings.only in (None, "correctness"):
            lines += ["", *correctness_table(self.correctness)]
        if self.settings.only in (None, "speed"):
            lines += ["", *speed_table(self.speed)]
        if self.failed:
            lines += ["", "Failed outside a run's checks:", *(f"- {f}" for f in self.failed)]
        if self.not_run:
            budget = f"{self.settings.budget_s:.0f} s"
            alone = "--only, --cases, --models, --sizes, --batches, --paths"
            lines += ["", f"Not run within the budget of {budget} (run them alone with {alone}):"]
            lines += [f"- {name}" for name in self.not_run]
        return "\n".join(lines) + "\n"


def correctness_table(rows: list[dict]) -> list[str]:
    rtol, atol = FIRST_STEP_TOLERANCE["fp32"]
    brtol, batol = FIRST_STEP_TOLERANCE["bf16"]
    lines = [
        "## Correctness",
        "",
        f"First step against the CPU's (fp32, eager, same seed and draws): within {atol:g} + "
        f"{rtol:g}·|CPU| in fp32, {batol:g} + {brtol:g}·|CPU| in bf16.",
        "",
        "| run | precision | compile | steps | losses finite | last.ckpt | first step vs CPU "
        "| no sync on quiet steps | s | ok |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        checks = ("losses finite", "checkpoint", "first step", "no sync on quiet steps", "seconds")
        if "error" in r:
            cells = ["", "", f"failed: {r['error']}", "", ""]
        else:
            cells = [r[key] for key in checks]
        compiled = "yes" if r["compile"] else "no"
        ok = "ok" if r["ok"] else "FAIL"
        lines.append(table_row([r["run"], r["precision"], compiled, r["steps"], *cells, ok]))
    return lines


def table_order(row: dict) -> tuple:
    """Speed rows by size, batch, model and path, the hand-written loop first."""
    paths = ["hand-written loop", *PATHS]
    models = list(MODELS)
    return row["size"], row["batch"], models.index(row["model"]), paths.index(row["path"])


def table_row(cells: list[Any]) -> str:
    return "| " + " | ".join(map(str, cells)) + " |"


def speed_table(rows: list[dict]) -> list[str]:
    lines = [
        "## Speed",
        "",
        "The digits resized; images/s: real images D sees per second (batch × steps/s, "
        "n_critic 1); × hand-written: steps/s against the eager fp32 hand-written loop of the "
        "same model, size and batch, in this call; the user's path: `python src/train.py` "
        "with the default callbacks less the sample metrics, CSV logger, `trainer=gpu`, fp32 "
        "unless the path says otherwise.",
        "",
        "| model | size | batch | path | steps/s | images/s | × hand-written | peak memory "
        "| note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    hand = {(r["model"], r["size"], r["batch"]): r["steps/s"] for r in rows
            if r["path"] == "hand-written loop"}  # fmt: skip
    for r in sorted(rows, key=table_order):
        base = hand.get((r["model"], r["size"], r["batch"]))
        rate = r["steps/s"]
        ratio = f"{rate / base:.2f}" if rate and base else ""
        cells = [r["model"], f"{r['size']}x{r['size']}", r["batch"], r["path"],
                 f"{rate:,.1f}" if rate else "", f"{r['images/s']:,.0f}" if rate else "",
                 ratio, r["peak memory"], r["note"]]  # fmt: skip
        lines.append(table_row(cells))
    return lines


def describe_machine(device: str) -> dict:
    if device == "cuda":
        name = torch.cuda.get_device_name()
        cuda = f", CUDA {torch.version.cuda}"
    else:
        name, cuda = f"{platform.machine()} CPU, {os.cpu_count()} cores", ""
    day = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    summary = f"{name}, torch {torch.__version__}{cuda}, lightning {pl.__version__}, {day}"
    return {"device": name, "torch": torch.__version__, "cuda": torch.version.cuda,
            "lightning": pl.__version__, "date": day, "summary": summary}  # fmt: skip


#: Which work comes first, so that a short budget leaves out the least wanted: eager
#: correctness; compiled fp32 correctness; every path of the first size and batch; the eager
#: paths of the others; compiled bf16 correctness; the compiled paths of the others.
PRIORITY = {
    ("correctness", "eager"): 0, ("correctness", "compiled fp32"): 1, ("speed", "first"): 2,
    ("speed", "eager"): 3, ("correctness", "compiled bf16"): 4, ("speed", "compiled"): 5,
}  # fmt: skip


def correctness_tasks(settings: Settings) -> list[Task]:
    """Every case in each precision, eager and compiled, each against its CPU first step."""
    references: dict[str, tuple[float, float]] = {}

    def check(case: str, precision: str, compiled: bool) -> dict:
        if case not in references:
            references[case] = first_step_on_cpu(settings, case)
        return run_case(settings, case, precision, compiled, references[case])

    tasks = []
    for compiled, precision, case in product((False, True), PRECISIONS, settings.cases):
        kind = "compiled" if compiled else "eager"
        rank = PRIORITY["correctness", f"compiled {precision}" if compiled else "eager"]
        run = partial(check, case, precision, compiled)
        tasks.append(Task("correctness", f"{case} {precision} {kind}", kind, rank, run))
    return tasks


def speed_tasks(settings: Settings) -> list[Task]:
    """Each configuration's hand-written loop, then the user's paths against it."""
    timed: dict[tuple[str, int, int], int] = {}

    def hand(model: str, size: int, batch: int) -> dict:
        row = hand_written_row(settings, model, size, batch)
        timed[(model, size, batch)] = row["timed steps"]
        return row

    def user(model: str, size: int, batch: int, path: str) -> dict:
        steps = timed.get((model, size, batch))
        if steps is None:
            return speed_row(settings, model, size, batch, path, note="not run: no baseline")
        return user_row(settings, model, size, batch, path, steps)

    tasks, first = [], (settings.sizes[0], settings.batches[0])
    for size, batch, model in product(settings.sizes, settings.batches, settings.models):
        name, head = f"{model} {size}x{size} batch {batch}", (size, batch) == first
        rank = PRIORITY["speed", "first" if head else "eager"]
        run = partial(hand, model, size, batch)
        tasks.append(Task("speed", f"{name}: hand-written loop", "eager", rank, run))
        for path in settings.paths:
            kind = "compiled" if "compile" in path else "eager"
            rank = PRIORITY["speed", "first" if head else kind]
            run = partial(user, model, size, batch, path)
            tasks.append(Task("speed", f"{name}: {path}", kind, rank, run))
    return tasks


def plan(settings: Settings) -> list[Task]:
    """The tasks asked for, in the order of PRIORITY (and as listed within one)."""
    tasks = []
    if settings.only in (None, "correctness"):
        tasks += correctness_tasks(settings)
    if settings.only in (None, "speed"):
        tasks += speed_tasks(settings)
    return sorted(tasks, key=lambda task: task.priority)


def run_all(settings: Settings) -> Report:
    """Every task of the plan that the budget leaves time for: one starts when the slowest
    of its kind so far (or GUESS_S) would end within the budget."""
    report, started, took = Report(settings), time.monotonic(), dict(GUESS_S)
    for task in plan(settings):
        left = settings.budget_s - (time.monotonic() - started)
        if left < took[task.kind]:
            report.not_run.append(f"{task.part}: {task.name}")
            report.write()
            continue
        print(f"[{time.monotonic() - started:5.0f} s] {task.part}: {task.name}", flush=True)
        begun = time.monotonic()
        try:
            report.add(task.part, task.run())
        except Exception as error:  # outside a run's own checks: the other tasks go on
            report.failed.append(f"{task.part}: {task.name}: {failure(error)}")
            report.write()
        took[task.kind] = max(took[task.kind], time.monotonic() - begun)
    return report


def compile_default(device: str, quick: bool) -> str:
    """Inductor on a GPU; on a CPU, no code generation: dynamo's graphs with AOT autograd
    (`aot_eager`), or in --quick dynamo's graphs alone (`eager`, twice as fast to make)."""
    if device == "cuda":
        return "true"
    return "eager" if quick else "aot_eager"


def settings_from(argv: list[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the table and JSON")
    parser.add_argument(
        "--device", choices=("cuda", "cpu"), default="cuda" if torch.cuda.is_available() else "cpu"
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a few steps (a CPU)")
    parser.add_argument("--budget", type=float, default=420.0, help="seconds for all the work")
    parser.add_argument("--only", choices=("correctness", "speed"))
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--sizes", nargs="+", type=int, default=[32, 64])
    parser.add_argument("--batches", nargs="+", type=int, default=[64, 256])
    parser.add_argument("--paths", nargs="+", default=list(PATHS), choices=list(PATHS))
    parser.add_argument("--compile-with", help="compile= value (default: compile_default)")
    args = parser.parse_args(argv)
    settings = Settings(
        device=args.device, quick=args.quick, budget_s=args.budget, out=args.out,
        compile_with=args.compile_with or compile_default(args.device, args.quick),
        cases=args.cases, models=args.models, sizes=args.sizes, batches=args.batches,
        paths=args.paths, only=args.only,
    )  # fmt: skip
    if args.quick:
        settings.tiny()
    return settings


def main(argv: list[str] | None = None) -> None:
    settings = settings_from(argv)
    settings.out.mkdir(parents=True, exist_ok=True)
    for name in ("lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.WARNING)
    if settings.device == "cpu":
        torch.set_num_threads(1)
    else:  # as `train` sets it: the hand-written loop runs under the same matrix products
        torch.set_float32_matmul_precision("high")
    report = run_all(settings)
    print(report.markdown())
    failed = report.failed or [r for r in report.correctness if not r["ok"]]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
