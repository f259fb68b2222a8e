"""Training-step overhead of gan-arena over a hand-written PyTorch loop.

Both loops train the same DCGAN pair with the same loss and optimizers on the same data
(scikit-learn digits, 8x8) for the same number of steps; the script reports steps per second
and gan-arena's overhead, for two gan-arena paths, alternated with the hand-written loop:

- `stripped`: a Trainer with no callbacks and no loggers (the module's own cost);
- `user`: `python src/train.py` as a user runs it, in its own process, with the default
  callbacks and loggers (W&B offline, CSV, progress bar, checkpoints, NaN guard,
  diagnostics) and only the sample metrics removed (FID, precision/recall, coverage: they
  are measured apart, benchmarks/metrics_cost.py), timed from step `--warmup` on.

Run: `python benchmarks/step_overhead.py [--steps 2000] [--paths stripped user] [--device cuda]`.
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


def hand_written(datamodule: DigitsDataModule, steps: int, device: torch.device) -> float:
    """The loop one would write by hand: same nets, same loss, nothing else."""
    generator, discriminator = (net.to(device) for net in networks(datamodule.sample_shape))
    loss = NonSaturating()
    opt_g, opt_d = adam(generator.parameters()), adam(discriminator.parameters())
    loader = datamodule.train_dataloader()
    done, start = 0, time.perf_counter()
    while done < steps:
        for real, _ in loader:
            real = real.to(device, non_blocking=True)
            z = torch.randn(real.shape[0], generator.latent_dim, device=device)
            with torch.no_grad():
                fake = generator(z)
            loss_d = loss.discriminator_loss(discriminator(real), discriminator(fake))
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            discriminator.requires_grad_(False)
            fake_scores = discriminator(generator(torch.randn_like(z)))
            loss_g = loss.generator_loss(fake_scores)
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            discriminator.requires_grad_(True)
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


def user_path(
    steps: int, warmup: int, batch_size: int, device: torch.device, extra: list[str]
) -> float:
    """Seconds for `steps` training steps of `python src/train.py`, after `warmup`."""
    with tempfile.TemporaryDirectory() as folder:
        timing = Path(folder) / "timing.json"
        timer = (
            f"+callbacks.step_timer={{_target_: step_overhead.UserPathTimer, path: '{timing}', "
            f"warmup: {warmup}, last: {warmup + steps}}}"
        )
        command = [
            sys.executable, "src/train.py", f"train_steps={warmup + steps + 1}",
            "model=dcgan",  # the hand-written loop's networks (the digits' default is compact)
            f"data.batch_size={batch_size}",
            "trainer.accelerator=" + ("gpu" if device.type == "cuda" else "cpu"),
            *(f"~callbacks.{name}" for name in SAMPLE_METRICS), timer, *extra,
            f"hydra.run.dir={folder}/run",
        ]  # fmt: skip
        env = {**os.environ, "WANDB_MODE": "offline", "PYTHONPATH": str(REPO / "benchmarks")}
        result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
        if result.returncode != 0 or not timing.is_file():
            sys.exit(f"src/train.py failed:\n{result.stderr[-3000:]}")
        return json.loads(timing.read_text())["seconds"]


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
