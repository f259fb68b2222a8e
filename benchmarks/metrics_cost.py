"""Cost of the metrics: FID time per feature extractor, and the callbacks' share of training.

1. Time to compute FID for `--samples` generated digits with each feature extractor
   (generation + features + statistics + the distance); Inception is timed on
   `--inception-samples` and scaled linearly (its weights are random here: no download
   offline, the cost is the same).
2. The DCGAN digits run (`python src/train.py model=dcgan`, CSV logger, no progress bar) with every
   callback hook timed: the share of the fit spent in the callbacks at their default schedule,
   once with the domain classifier and real statistics still to build, once cached.

Run: `python benchmarks/metrics_cost.py` (about 2 minutes on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from unittest import mock

import lightning.pytorch as pl
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.conftest import compose_train_config  # noqa: E402

from ganarena.callbacks import FIDCallback  # noqa: E402
from ganarena.compat import save_random_inception_weights  # noqa: E402
from ganarena.data import DigitsDataModule  # noqa: E402
from ganarena.gan_module import GANModule  # noqa: E402
from ganarena.losses import NonSaturating  # noqa: E402
from ganarena.networks import DCGANDiscriminator, DCGANGenerator  # noqa: E402
from ganarena.training import instantiate_all, train  # noqa: E402

HOOKS = [name for name in dir(pl.Callback) if name.startswith("on_")]


class SmallUserNet(torch.nn.Module):
    """What a user might pass as `metric_features.module`: a random conv net."""

    def __init__(self):
        super().__init__()
        self.body = torch.nn.Sequential(
            torch.nn.Conv2d(1, 64, 3, padding=1),
            torch.nn.ReLU(),
            torch.nn.AdaptiveAvgPool2d(2),
            torch.nn.Flatten(),
        )

    def forward(self, images):
        return self.body(images)


def time_fid(features: dict, samples: int, tmp: Path, device: torch.device) -> tuple[float, float]:
    """Seconds for one FID measurement, and of them the final distance (`compute`) alone."""
    datamodule = DigitsDataModule()
    datamodule.setup("fit")
    torch.manual_seed(0)
    shape = datamodule.sample_shape
    module = GANModule(
        DCGANGenerator(shape),
        DCGANDiscriminator(shape),
        NonSaturating(),
        torch.optim.Adam,
        torch.optim.Adam,
    ).to(device)
    spec = {"classifier_dir": str(tmp / "classifiers"), "stats_dir": str(tmp / "stats"), **features}
    callback = FIDCallback(features=spec, num_samples=samples, batch_size=250)
    callback.try_prepare(module, datamodule)  # builds and caches real statistics
    start = time.perf_counter()
    callback.measure(module, datamodule, tag="benchmark")
    synchronize(device)
    total = time.perf_counter() - start
    callback.metric._computed = None  # torchmetrics caches the last result
    start = time.perf_counter()
    callback.metric.compute()
    synchronize(device)
    return total, time.perf_counter() - start


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so a time covers the work and not only its launch."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class HookTimer:
    def __init__(self, callbacks):
        self.seconds = defaultdict(float)
        for callback in callbacks:
            for hook in HOOKS:
                self._wrap(callback, hook)

    def _wrap(self, callback, hook):
        original = getattr(callback, hook)
        name = type(callback).__name__

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start

        setattr(callback, hook, timed)


def timed_default_run(output_dir: Path, data_dir: Path) -> tuple[float, dict[str, float]]:
    cfg = compose_train_config(
        output_dir,
        [
            "model=dcgan",  # the networks the documented shares were measured on
            "logger=csv",
            "~callbacks.rich_progress_bar",
            "+trainer.enable_progress_bar=false",
            "trainer.enable_model_summary=false",
        ],
    )
    cfg.paths.data_dir = str(data_dir)
    timers: list[HookTimer] = []

    def timed_instantiate_all(group):
        objects = instantiate_all(group)
        if group is not None and objects and isinstance(objects[0], pl.Callback):
            timers.append(HookTimer(objects))
        return objects

    with mock.patch("ganarena.training.instantiate_all", timed_instantiate_all):
        start = time.perf_counter()
        train(cfg)
        total = time.perf_counter() - start
    return total, dict(timers[0].seconds)


def report_run(label: str, total: float, seconds: dict[str, float]) -> None:
    metric_names = {
        "FIDCallback",
        "ClassCoverageCallback",
        "ModeCoverageCallback",
        "TrainingDiagnostics",
    }
    new = sum(v for k, v in seconds.items() if k in metric_names)
    every = sum(seconds.values())
    print(
        f"{label}: fit {total:.1f} s; metric callbacks {new:.2f} s = {100 * new / total:.1f}%;"
        f" all callbacks {every:.2f} s = {100 * every / total:.1f}%"
    )
    for name, value in sorted(seconds.items(), key=lambda item: -item[1]):
        print(f"    {name:24s} {value:7.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--inception-samples", type=int, default=100)
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    print(
        f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} "
        f"torch threads, torch {torch.__version__}, cuda {torch.cuda.is_available()}"
    )
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        print(f"FID of {args.samples} generated 8x8 digits (generation + features + distance):")
        seconds, _ = time_fid({"name": "domain_classifier"}, args.samples, tmp, device)
        print(f"  domain classifier (128-d):  {seconds:8.2f} s")
        seconds, _ = time_fid(
            {"name": "module", "module": SmallUserNet()}, args.samples, tmp, device
        )
        print(f"  user module (256-d conv):   {seconds:8.2f} s")
        weights = save_random_inception_weights(tmp / "inception.pth")
        spec = {"name": "inception", "inception_weights_path": str(weights)}
        seconds, distance = time_fid(spec, args.inception_samples, tmp, device)
        per_sample = (seconds - distance) / args.inception_samples
        scaled = per_sample * args.samples + distance
        print(
            f"  inception (2048-d): {1000 * per_sample:.2f} ms per sample ("
            f"{args.inception_samples} timed) + {distance:.1f} s for the 2048-d distance"
            f" -> {scaled:8.0f} s for {args.samples}"
        )
        if args.skip_training:
            return
        data_dir = tmp / "data"
        report_run(
            "default digits run, first (classifier trained)",
            *timed_default_run(tmp / "run1", data_dir),
        )
        report_run(
            "default digits run, cached classifier", *timed_default_run(tmp / "run2", data_dir)
        )


if __name__ == "__main__":
    main()
