"""gan-arena's training step against a hand-written PyTorch loop, on the same networks.

For each configuration (the default compact pair on the 8x8 digits; the DCGAN pair on the
digits at 16x16 and 32x32) three loops train the same networks, built from the same
composed config, with the same loss, optimizers and batches:

- `hand-written`: a plain PyTorch loop (`HandStep`), in this process;
- `stripped`: `GANModule` under a Trainer with no callbacks and no loggers: Lightning's
  loop and the module, nothing else;
- `user`: `python src/train.py` as a user runs it, in its own process, with the default
  callbacks and loggers (W&B offline, CSV, progress bar, checkpoints, NaN guard,
  diagnostics), less the sample metrics (FID, precision/recall, coverage: measured apart,
  benchmarks/metrics_cost.py), timed from step `--warmup` on.

The loops alternate `--repeats` times, so that a busy spell of a shared machine falls on all
of them; the table gives each path's speed as a share of the hand-written loop's, best run
against best run, and the median of each run against the hand-written run just before it.
Where the time goes: `stripped` minus `hand-written` is Lightning's loop and the module's
calls through its public API; `user` minus `stripped` is the callbacks and loggers.

    python benchmarks/step_overhead.py                    # all three configurations
    python benchmarks/step_overhead.py --configs compact-8 --steps 3000 --repeats 5
    python benchmarks/step_overhead.py --where --configs compact-8   # where the time goes
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import lightning.pytorch as pl
import torch

from ganarena.compat import skip_nvml_probe_without_gpus
from ganarena.config import compose_job
from ganarena.gan_module import GANModule
from ganarena.training import build_module, instantiate

# The reference loop runs beside Lightning, whose import makes every Adam step on a machine
# with no GPU try to load NVML (ganarena.compat): undo that here, as `train` does.
skip_nvml_probe_without_gpus()

REPO = Path(__file__).resolve().parents[1]
CONFIGURATIONS = {
    "compact-8": ["model=compact"],  # the default run's networks and data
    "dcgan-16": ["model=dcgan", "data.image_size=16"],
    "dcgan-32": ["model=dcgan", "data.image_size=32"],
}
#: Timed steps of each configuration by default: about the same time for each (`--steps`
#: sets them all), after a tenth as many untimed ones.
DEFAULT_STEPS = {"compact-8": 1000, "dcgan-16": 300, "dcgan-32": 100}
#: The callbacks that measure samples (reported apart); everything else stays in.
SAMPLE_METRICS = ("fid", "precision_recall", "class_coverage", "conditional_accuracy",
                  "class_fid", "mode_coverage", "stacked_modes")  # fmt: skip


def compose_run(overrides: list[str]):
    """The data module and GAN module `python src/train.py <overrides>` would build."""
    cfg = compose_job(overrides, Path(tempfile.gettempdir()) / "step_overhead")
    torch.manual_seed(0)
    datamodule = instantiate(cfg.data)
    datamodule.setup("fit")
    return datamodule, build_module(cfg, datamodule)


class HandStep:
    """One training step as one would write it by hand: the module's networks, loss and
    optimizer settings, nothing else."""

    def __init__(self, module: GANModule) -> None:
        self.generator, self.discriminator = module.generator, module.discriminator
        self.loss = module.loss
        self.opt_g = module.generator_optimizer(self.generator.parameters())
        self.opt_d = module.discriminator_optimizer(self.discriminator.parameters())

    def __call__(self, real: torch.Tensor) -> None:
        generator, discriminator, loss = self.generator, self.discriminator, self.loss
        z = torch.randn(real.shape[0], generator.latent_dim, device=real.device)
        with torch.no_grad():
            fake = generator(z)
        loss_d = loss.discriminator_loss(discriminator(real), discriminator(fake))
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        discriminator.requires_grad_(False)
        loss_g = loss.generator_loss(discriminator(generator(torch.randn_like(z))))
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        discriminator.requires_grad_(True)


def synchronize(device: torch.device | str) -> None:
    """Wait for the work queued on `device`: a CUDA host runs ahead of its GPU, and a clock
    read must cover the steps it times."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def hand_written(overrides: list[str], steps: int, warmup: int, device: str = "cpu") -> float:
    """Seconds for `steps` hand-written training steps (after `warmup` untimed ones) on
    `device`, each batch copied there from the host loader."""
    datamodule, module = compose_run(overrides)
    module.to(device)
    step, loader = HandStep(module), datamodule.train_dataloader()
    done, start = 0, time.perf_counter()
    while done < warmup + steps:
        for real, _ in loader:
            step(real.to(device, non_blocking=True))
            done += 1
            if done == warmup:
                synchronize(device)
                start = time.perf_counter()
            if done == warmup + steps:
                break
    synchronize(device)
    return time.perf_counter() - start


class StepTimer(pl.Callback):
    """Times training steps `warmup` + 1 to `last` (after every other callback's work on
    them); writes the seconds to `path` when given."""

    def __init__(self, warmup: int, last: int, path: str | None = None) -> None:
        self.warmup, self.last, self.path = warmup, last, path
        self.seconds = 0.0

    def on_train_batch_end(self, trainer, pl_module, *args) -> None:
        step = pl_module.training_steps
        if step == self.warmup:
            synchronize(pl_module.device)
            self.start = time.perf_counter()
        elif step == self.last:
            synchronize(pl_module.device)
            self.seconds = time.perf_counter() - self.start
            if self.path and trainer.is_global_zero:
                Path(self.path).write_text(json.dumps({"seconds": self.seconds}))


def stripped(overrides: list[str], steps: int, warmup: int) -> float:
    """Seconds for `steps` training steps of GANModule under a bare Trainer."""
    datamodule, module = compose_run(overrides)
    timer = StepTimer(warmup, warmup + steps)
    trainer = pl.Trainer(
        accelerator="cpu", max_steps=2 * (warmup + steps), max_epochs=-1, logger=False,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
        callbacks=[timer],
    )  # fmt: skip
    trainer.fit(module, datamodule=datamodule)
    return timer.seconds


class BatchTimer(pl.Callback):
    """Seconds from the end of batch `warmup` to the end of the fit's last batch."""

    def __init__(self, warmup: int) -> None:
        self.warmup, self.batches, self.seconds = warmup, 0, 0.0

    def on_train_batch_end(self, trainer, pl_module, *args) -> None:
        self.batches += 1
        if self.batches == self.warmup:
            self.start = time.perf_counter()

    def on_train_end(self, trainer, pl_module) -> None:
        self.seconds = time.perf_counter() - self.start


class EmptyStep(GANModule):
    """Lightning's loop with a training step that does nothing: its own cost per batch."""

    def training_step(self, batch, batch_idx: int) -> None:
        pass


class RawUpdates(GANModule):
    """GANModule whose updates skip Lightning: the torch optimizer and `backward` directly
    (Lightning then counts no optimizer steps: for measuring only)."""

    def update(self, optimizer, total: torch.Tensor) -> None:
        optimizer.optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.optimizer.step()


def per_batch_ms(module_class: type[GANModule], overrides: list[str], batches: int) -> float:
    """Milliseconds per batch of `module_class` (built as GANModule is) under a bare Trainer,
    over whole epochs of at least `batches` batches, after a first tenth."""
    datamodule, module = compose_run(overrides)
    module.__class__ = module_class
    epochs = -(-batches // len(datamodule.train_dataloader()))
    timer = BatchTimer(warmup=max(batches // 10, 1))
    trainer = pl.Trainer(
        accelerator="cpu", max_epochs=epochs, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, callbacks=[timer],
    )  # fmt: skip
    trainer.fit(module, datamodule=datamodule)
    return 1e3 * timer.seconds / (timer.batches - timer.warmup)


def where_the_time_goes(name: str, steps: int, repeats: int) -> str:
    """Per-step costs that add up to the stripped path's: the hand-written step, Lightning's
    loop around an empty step, the module with updates outside Lightning, the module (the
    best of `repeats` alternations each)."""
    overrides = CONFIGURATIONS[name]
    warmup = max(steps // 10, 5)
    runs: dict[str, list[float]] = {"hand": [], "loop": [], "raw": [], "module": []}
    for _ in range(repeats):
        runs["hand"].append(1e3 * hand_written(overrides, steps, warmup) / steps)
        runs["loop"].append(per_batch_ms(EmptyStep, overrides, steps))
        runs["raw"].append(per_batch_ms(RawUpdates, overrides, steps))
        runs["module"].append(per_batch_ms(GANModule, overrides, steps))
    hand, loop, raw, module = (min(times) for times in runs.values())
    return (
        f"{name}, ms per training step: hand-written {hand:.2f}; Lightning's loop around an "
        f"empty step {loop:.2f}; GANModule with its updates outside Lightning {raw:.2f}; "
        f"GANModule {module:.2f} (its updates through manual_backward and "
        f"LightningOptimizer.step: {module - raw:+.2f})"
    )


def user(overrides: list[str], steps: int, warmup: int) -> float:
    """Seconds for `steps` training steps of `python src/train.py` (its end-of-run save,
    which a hand-written loop does not make, falls after the last timed step)."""
    with tempfile.TemporaryDirectory() as folder:
        timing = Path(folder) / "timing.json"
        timer = f"_target_: step_overhead.StepTimer, warmup: {warmup}, last: {warmup + steps}"
        command = [
            sys.executable, "src/train.py", *overrides, f"train_steps={warmup + steps + 1}",
            "trainer.accelerator=cpu", *(f"~callbacks.{name}" for name in SAMPLE_METRICS),
            f"+callbacks.benchmark={{{timer}, path: '{timing}'}}", f"hydra.run.dir={folder}/run",
        ]  # fmt: skip
        env = {**os.environ, "WANDB_MODE": "offline", "PYTHONPATH": str(REPO / "benchmarks")}
        result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
        if result.returncode != 0 or not timing.is_file():
            sys.exit(f"src/train.py failed:\n{result.stderr[-3000:]}")
        return json.loads(timing.read_text())["seconds"]


PATHS = {"hand-written": hand_written, "stripped": stripped, "user": user}


def measure(name: str, steps: int, warmup: int, repeats: int) -> dict:
    """Each path's times over `repeats` alternations, and its ratios to the hand-written loop."""
    overrides = CONFIGURATIONS[name]
    times: dict[str, list[float]] = {path: [] for path in PATHS}
    for _ in range(repeats):
        for path, run in PATHS.items():
            times[path].append(run(overrides, steps, warmup))
    hand = times["hand-written"]
    return {
        "configuration": name,
        "overrides": overrides,
        "steps": steps,
        "ms_per_step": {path: 1e3 * min(t) / steps for path, t in times.items()},
        "best_against_best": {path: min(hand) / min(t) for path, t in times.items()},
        "median_run_against_run": {
            path: statistics.median(h / s for h, s in zip(hand, t, strict=True))
            for path, t in times.items()
        },
    }


def table(results: list[dict]) -> str:
    lines = [
        "| configuration | steps | hand-written ms/step | stripped | user's path "
        "| user, run against run |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        ms, best, median = r["ms_per_step"], r["best_against_best"], r["median_run_against_run"]
        lines.append(
            f"| {r['configuration']} | {r['steps']} | {ms['hand-written']:.2f} | "
            f"{best['stripped']:.3f} "
            f"({ms['stripped']:.2f} ms) | {best['user']:.3f} ({ms['user']:.2f} ms) | "
            f"{median['user']:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGURATIONS))
    parser.add_argument("--steps", type=int, help="timed steps (default: DEFAULT_STEPS)")
    parser.add_argument("--warmup", type=int, help="untimed steps (default: a tenth)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads, every loop")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--where", action="store_true", help="only where the time goes")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)  # the user path's own process
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch threads {args.threads}, torch {torch.__version__}, lightning {pl.__version__}; "
        f"best of {args.repeats}"
    )
    if args.where:
        for name in args.configs:
            print(where_the_time_goes(name, args.steps or DEFAULT_STEPS[name], args.repeats))
        return
    results = []
    for name in args.configs:
        steps = args.steps or DEFAULT_STEPS[name]
        warmup = args.warmup if args.warmup is not None else max(steps // 10, 5)
        results.append(measure(name, steps, warmup, args.repeats))
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
