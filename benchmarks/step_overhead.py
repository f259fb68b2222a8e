"""Training-step overhead of gan-arena over a hand-written PyTorch loop.

Both loops train the same DCGAN pair with the same loss and optimizers on the same data
(scikit-learn digits, 8x8) for the same number of steps; the script reports steps per second
and gan-arena's overhead, for two gan-arena paths, alternated with the hand-written loop:

- `stripped`: a Trainer with no callbacks and no loggers (the module's own cost);
- `user`: `python src/train.py` as a user runs it, in its own process, with the default
  callbacks and loggers (W&B offline, CSV, progress bar, checkpoints, NaN guard,
  diagnostics) and only the sample metrics removed (FID, precision/recall, coverage: they
  are measured apart, benchmarks/metrics_cost.py), timed from step `--warmup` on;
- `interleaved`: the user's path once more, with a hand-written step after each of its own
  steps in the same process, both timed step by step (`InterleavedHandSteps`): the two share
  every busy spell of the machine, so the comparison holds to microseconds, and the excess
  of each kind of step (logging steps, epoch ends, checkpoint saves) shows where time goes.

Run: `python benchmarks/step_overhead.py [--steps 2000] [--paths stripped user interleaved]
[--device cuda]`.
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
from ganarena.data import DigitsDataModule
from ganarena.gan_module import GANModule
from ganarena.losses import NonSaturating
from ganarena.networks import DCGANDiscriminator, DCGANGenerator

# The reference is a loop written without Lightning, whose import makes every Adam step on a
# machine with no GPU try to load NVML (ganarena.compat): undo that here, as `train` does.
skip_nvml_probe_without_gpus()


def adam(params):
    return torch.optim.Adam(params, lr=2e-4, betas=(0.5, 0.999))


def networks(shape: tuple[int, ...]) -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(0)
    return DCGANGenerator(shape), DCGANDiscriminator(shape)


class HandStep:
    """One training step as one would write it by hand: same nets, same loss, nothing else."""

    def __init__(self, shape: tuple[int, ...], device: torch.device) -> None:
        self.generator, self.discriminator = (net.to(device) for net in networks(shape))
        self.loss = NonSaturating()
        self.opt_g = adam(self.generator.parameters())
        self.opt_d = adam(self.discriminator.parameters())
        self.device = device

    def __call__(self, real: torch.Tensor) -> None:
        generator, discriminator, loss = self.generator, self.discriminator, self.loss
        real = real.to(self.device, non_blocking=True)
        z = torch.randn(real.shape[0], generator.latent_dim, device=self.device)
        with torch.no_grad():
            fake = generator(z)
        loss_d = loss.discriminator_loss(discriminator(real), discriminator(fake))
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        discriminator.requires_grad_(False)
        fake_scores = discriminator(generator(torch.randn_like(z)))
        loss_g = loss.generator_loss(fake_scores)
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        discriminator.requires_grad_(True)


def hand_written(datamodule: DigitsDataModule, steps: int, device: torch.device) -> float:
    """Seconds for `steps` hand-written training steps over the data module's loader."""
    step = HandStep(datamodule.sample_shape, device)
    loader = datamodule.train_dataloader()
    done, start = 0, time.perf_counter()
    while done < steps:
        for real, _ in loader:
            step(real)
            done += 1
            if done == steps:
                break
    synchronize(device)
    return time.perf_counter() - start


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so a time covers the work and not only its launch."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class StepTimer(pl.Callback):
    """Seconds from the start of fit, or from the end of training step `warmup`, to its end."""

    def __init__(self, warmup: int = 0) -> None:
        self.warmup = warmup

    def on_train_start(self, trainer, pl_module) -> None:
        self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, *args) -> None:
        if self.warmup and pl_module.training_steps == self.warmup:
            synchronize(pl_module.device)
            self.start = time.perf_counter()

    def on_train_end(self, trainer, pl_module) -> None:
        synchronize(pl_module.device)
        self.seconds = time.perf_counter() - self.start


def with_lightning(
    datamodule: DigitsDataModule,
    steps: int,
    device: torch.device,
    precision: str = "32-true",
    warmup: int = 0,
) -> float:
    """Seconds for `steps` training steps through GANModule (after `warmup` untimed ones)."""
    generator, discriminator = networks(datamodule.sample_shape)
    module = GANModule(generator, discriminator, NonSaturating(), adam, adam)
    timer = StepTimer(warmup)
    trainer = pl.Trainer(
        accelerator="gpu" if device.type == "cuda" else "cpu",
        devices=1,
        precision=precision,
        max_steps=2 * (warmup + steps),  # optimizer steps: one D and one G step per step
        max_epochs=-1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[timer],
    )
    trainer.fit(module, datamodule=datamodule)
    return timer.seconds


REPO = Path(__file__).resolve().parents[1]
#: The callbacks that measure samples (reported apart); everything else stays in.
SAMPLE_METRICS = ("fid", "precision_recall", "class_coverage", "conditional_accuracy",
                  "class_fid", "mode_coverage", "stacked_modes")  # fmt: skip


class UserPathTimer(pl.Callback):
    """Times the training steps after `warmup` (after every other callback's work on them)
    up to the one before the last (whose end-of-run save a hand-written loop does not make),
    and writes the time and the step count to `path` (on rank 0 of a DDP run)."""

    def __init__(self, path: str, warmup: int, last: int) -> None:
        self.path, self.warmup, self.last = path, warmup, last

    def on_train_batch_end(self, trainer, pl_module, *args) -> None:
        step = pl_module.training_steps
        if step == self.warmup:
            synchronize(pl_module.device)
            self.start = time.perf_counter()
        elif step == self.last and trainer.is_global_zero:
            synchronize(pl_module.device)
            seconds = time.perf_counter() - self.start
            timing = {"seconds": seconds, "steps": step - self.warmup}
            Path(self.path).write_text(json.dumps(timing))


class EveryUpdateListener(pl.Callback):
    """Listens to every optimizer step, so that every update goes through Lightning's hooks:
    `-- '+callbacks.listener={_target_: step_overhead.EveryUpdateListener}'` measures the
    user's path as it was before updates skipped them (ganarena.direct_updates)."""

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        pass


class InterleavedHandSteps(pl.Callback):
    """After each training step of the run, one hand-written step (its own networks, its
    own loader over the same data), each timed: the two loops share every spell of a busy
    machine, so their per-step times compare to a few microseconds. gan-arena's step is the
    time from one batch's start hook to the next, less the hand-written step inside it: the
    whole loop, callbacks and loggers included. Writes the per-step times to `path`."""

    def __init__(self, path: str, warmup: int) -> None:
        self.path, self.warmup = path, warmup
        self.hand: list[float] = []
        self.arena: list[tuple[int, float]] = []
        self.batch_start: float | None = None

    def on_train_start(self, trainer, pl_module) -> None:
        datamodule = DigitsDataModule(batch_size=trainer.datamodule.batch_size)
        datamodule.setup("fit")
        self.step = HandStep(datamodule.sample_shape, pl_module.device)
        self.loader = datamodule.train_dataloader()
        self.batches = iter(self.loader)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        now = time.perf_counter()
        done = pl_module.training_steps
        if self.batch_start is not None and done > self.warmup:
            self.arena.append((done, now - self.batch_start - self.hand[-1]))
        self.batch_start = now

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        start = time.perf_counter()
        try:
            real = next(self.batches)[0]
        except StopIteration:
            self.batches = iter(self.loader)
            real = next(self.batches)[0]
        self.step(real)
        synchronize(pl_module.device)
        self.hand.append(time.perf_counter() - start)

    def on_train_end(self, trainer, pl_module) -> None:
        hand = self.hand[self.warmup + 1 : self.warmup + 1 + len(self.arena)]
        timing = {"hand": hand, "arena": self.arena, "log_every": trainer.log_every_n_steps}
        timing["epoch"] = int(trainer.num_training_batches)
        Path(self.path).write_text(json.dumps(timing))


def run_train(callback: str, steps: int, batch_size: int, device: torch.device, extra: list[str]):
    """Run `python src/train.py` for `steps` training steps as a user would (the sample
    metrics removed) with the benchmark's `callback` (a Hydra node taking `path`), and
    return what the callback wrote there."""
    with tempfile.TemporaryDirectory() as folder:
        timing = Path(folder) / "timing.json"
        command = [
            sys.executable, "src/train.py", f"train_steps={steps}",
            "model=dcgan",  # the hand-written loop's networks (the digits' default is compact)
            f"data.batch_size={batch_size}",
            "trainer.accelerator=" + ("gpu" if device.type == "cuda" else "cpu"),
            *(f"~callbacks.{name}" for name in SAMPLE_METRICS),
            f"+callbacks.benchmark={{{callback}, path: '{timing}'}}", *extra,
            f"hydra.run.dir={folder}/run",
        ]  # fmt: skip
        env = {**os.environ, "WANDB_MODE": "offline", "PYTHONPATH": str(REPO / "benchmarks")}
        result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
        if result.returncode != 0 or not timing.is_file():
            sys.exit(f"src/train.py failed:\n{result.stderr[-3000:]}")
        return json.loads(timing.read_text())


def user_path(
    steps: int, warmup: int, batch_size: int, device: torch.device, extra: list[str]
) -> float:
    """Seconds for `steps` training steps of `python src/train.py`, after `warmup`."""
    timer = f"_target_: step_overhead.UserPathTimer, warmup: {warmup}, last: {warmup + steps}"
    return run_train(timer, warmup + steps + 1, batch_size, device, extra)["seconds"]


def interleaved(
    steps: int, warmup: int, batch_size: int, device: torch.device, extra: list[str]
) -> dict:
    """Per-step times of the user's path and of a hand-written step after each of its steps."""
    callback = f"_target_: step_overhead.InterleavedHandSteps, warmup: {warmup}"
    return run_train(callback, warmup + steps + 1, batch_size, device, extra)


def step_kind(step: int, timing: dict) -> str:
    """What else happens at the end of training step `step` of the user's path."""
    if step % 500 == 0:
        return "checkpoint and sample grid (every 500 steps)"
    if step % timing["log_every"] == 0:
        return f"logging step (every {timing['log_every']})"
    if step % timing["epoch"] == 0:
        return f"epoch end (every {timing['epoch']})"
    return "other steps"


def print_interleaved(timing: dict) -> None:
    hand = timing["hand"]
    arena = [seconds for _, seconds in timing["arena"]]
    typical = statistics.median(arena)
    print(
        f"interleaved, {len(arena)} steps: hand-written median {1e3 * statistics.median(hand):.3f}"
        f" ms, gan-arena median {1e3 * typical:.3f} ms ({statistics.median(hand) / typical:.3f});"
        f" all steps: {sum(hand) / sum(arena):.3f} of the hand-written loop's speed"
    )
    excess: dict[str, list[float]] = {}
    for step, seconds in timing["arena"]:
        excess.setdefault(step_kind(step, timing), []).append(seconds - typical)
    for kind, values in sorted(excess.items()):
        print(
            f"  {kind:45s} {len(values):5d} steps, {1e3 * sum(values) / len(values):7.3f} ms "
            f"each over the median step: {1e3 * sum(values) / len(arena):.3f} ms per step"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--paths", nargs="+", default=["stripped", "user"])
    parser.add_argument("--warmup", type=int, default=200, help="user path: steps not timed")
    parser.add_argument("--threads", type=int, default=1, help="torch threads, both loops")
    parser.add_argument("overrides", nargs="*", help="user path: more overrides (logger=csv)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)  # the user path's own process
    device = torch.device(args.device)
    datamodule = DigitsDataModule(batch_size=args.batch_size)
    datamodule.setup("fit")
    print(
        f"machine: {platform.processor() or platform.machine()}, torch threads "
        f"{torch.get_num_threads()}, torch {torch.__version__}, device {device}"
        + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else "")
        + f", batch {args.batch_size}"
    )
    hand_written(datamodule, 200, device)  # warm-up
    runs = {
        "stripped": lambda: with_lightning(datamodule, args.steps, device),
        "user": lambda: user_path(args.steps, args.warmup, args.batch_size, device, args.overrides),
    }
    if "interleaved" in args.paths:
        args.paths.remove("interleaved")
        print_interleaved(
            interleaved(args.steps, args.warmup, args.batch_size, device, args.overrides)
        )
        if not args.paths:
            return
    hand_times: list[float] = []
    times: dict[str, list[float]] = {path: [] for path in args.paths}
    ratios: dict[str, list[float]] = {path: [] for path in args.paths}
    for _ in range(args.repeats):  # alternate, so a busy spell on a shared machine hits all
        for path in args.paths:
            hand_times.append(hand_written(datamodule, args.steps, device))
            times[path].append(runs[path]())
            ratios[path].append(hand_times[-1] / times[path][-1])
    hand = min(hand_times)
    print(f"hand-written loop:      {args.steps / hand:8.1f} steps/s")
    for path, seconds in times.items():
        arena = min(seconds)
        print(
            f"gan-arena, {path:9s}:   {args.steps / arena:8.1f} steps/s = "
            f"{hand / arena:.3f} of the hand-written loop "
            f"(overhead {100 * (arena / hand - 1):.1f} %); run after run: median "
            f"{statistics.median(ratios[path]):.3f} of the hand-written run before it "
            f"({', '.join(f'{r:.3f}' for r in ratios[path])})"
        )
    if device.type == "cuda":
        bf16 = min(
            with_lightning(datamodule, args.steps, device, "bf16-mixed")
            for _ in range(args.repeats)
        )
        print(f"gan-arena, bf16-mixed: {args.steps / bf16:8.1f} steps/s")


if __name__ == "__main__":
    main()
