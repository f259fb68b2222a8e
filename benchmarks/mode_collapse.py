"""Mode collapse of every loss preset on the ring and grid of Gaussians, over seeds.

Each run composes `configs/train.yaml` with `loss=<preset> data=<ring|grid>` exactly as
`python src/train.py` would (the presets' published defaults, the default MLP networks),
trains for the same number of GENERATOR steps (each preset makes its own n_critic D steps
per G step) and scores 2,500 samples with `ganarena.metrics.mode_coverage` (VEEGAN/PacGAN
protocol). It writes a Markdown table of mean ± std over seeds to
`benchmarks/results/mode_collapse.md` and prints it; every single run is kept as a JSON line
in `benchmarks/results/mode_collapse.jsonl` (with the z size and weight-average decay it ran
with), so an interrupted benchmark resumes.

    python benchmarks/mode_collapse.py --jobs 2              # everything (~1 h on 2 cores)
    python benchmarks/mode_collapse.py --losses hinge r1 --data ring --seeds 1 --steps 500
    python benchmarks/mode_collapse.py --losses wgan_lp --steps 10000 --accelerator gpu --jobs 6
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import logging
import math
import multiprocessing
import statistics
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from ganarena.config import CONFIG_DIR, group_options
from ganarena.data.mixtures import GaussianMixtureDataModule
from ganarena.metrics import mode_coverage
from ganarena.training import build_module, instantiate

RESULTS = Path(__file__).resolve().parent / "results"
PRESETS = group_options(CONFIG_DIR, "loss")  # every preset in configs/loss/
TARGETS = {"ring": 8, "grid": 25}


def compose_run(loss: str, data: str, seed: int, batch_size: int, output_dir: Path) -> DictConfig:
    """The config `python src/train.py loss=<loss> data=<data> seed=<seed>` would run."""
    GlobalHydra.instance().clear()
    overrides = [f"loss={loss}", f"data={data}", f"seed={seed}", f"data.batch_size={batch_size}"]
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", overrides=overrides, return_hydra_config=True)
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = str(output_dir)
        cfg.hydra.job.num = 0
    HydraConfig.instance().set_config(cfg)
    return cfg


class Timer(pl.Callback):
    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.start = time.perf_counter()

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.seconds = time.perf_counter() - self.start


def run_one(
    loss: str, data: str, seed: int, steps: int, batch_size: int, samples: int, accelerator: str
) -> dict:
    """Train one preset on one data set with one seed; score its samples."""
    with tempfile.TemporaryDirectory() as output_dir:
        cfg = compose_run(loss, data, seed, batch_size, Path(output_dir))
        pl.seed_everything(seed, workers=True, verbose=False)
        datamodule: GaussianMixtureDataModule = instantiate(cfg.data)
        module = build_module(cfg, datamodule)
        timer = Timer()
        trainer = pl.Trainer(
            accelerator=accelerator,
            devices=1,
            max_steps=steps * (cfg.loss.n_critic + 1),  # optimizer steps: n_critic D + 1 G
            max_epochs=-1,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            callbacks=[timer],
            default_root_dir=output_dir,
        )
        trainer.fit(module, datamodule=datamodule)
    torch.manual_seed(10_000 + seed)
    points = module.generate(torch.randn(samples, module.latent_dim)).cpu()  # moved to G's device
    finite = bool(torch.isfinite(points).all())
    coverage = mode_coverage(torch.nan_to_num(points, nan=1e6), datamodule.means, datamodule.std)
    return {
        "loss": loss,
        "data": data,
        "seed": seed,
        "steps": steps,
        "batch_size": batch_size,
        "latent_dim": int(cfg.model.generator.latent_dim),
        "ema_decay": cfg.model.get("ema_decay"),
        "modes": coverage.modes_captured,
        "high_quality": coverage.high_quality_fraction,
        "reverse_kl": coverage.reverse_kl,
        "finite": finite,
        "accelerator": accelerator,
        "steps_per_second": steps / timer.seconds,
    }


def mean_std(values: list[float], digits: int) -> str:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return "inf"
    mean = statistics.fmean(finite)
    std = statistics.stdev(finite) if len(finite) > 1 else 0.0
    note = "" if len(finite) == len(values) else f" ({len(values) - len(finite)}× inf)"
    return f"{mean:.{digits}f} ± {std:.{digits}f}{note}"


def table(records: list[dict], losses: list[str], datasets: list[str]) -> str:
    """One row per preset: modes, % high quality and reverse KL per data set, and speed."""
    header = ["loss"]
    for data in datasets:
        header += [f"{data}: modes (of {TARGETS[data]})", f"{data}: % HQ", f"{data}: reverse KL"]
    header.append("steps/s")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for loss in losses:
        row, speeds = [f"`{loss}`"], []
        for data in datasets:
            runs = [r for r in records if r["loss"] == loss and r["data"] == data]
            if not runs:
                row += ["–"] * 3
                continue
            row.append(mean_std([r["modes"] for r in runs], 1))
            row.append(mean_std([100 * r["high_quality"] for r in runs], 1))
            row.append(mean_std([r["reverse_kl"] for r in runs], 2))
            speeds += [r["steps_per_second"] for r in runs]
        row.append(f"{statistics.fmean(speeds):.0f}" if speeds else "–")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def load_records(path: Path, key: dict[str, Any]) -> list[dict]:
    """Runs already done with the same budget (so an interrupted benchmark resumes)."""
    if not path.is_file():
        return []
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in records if all(r.get(k) == v for k, v in key.items())]


def quiet(threads: int) -> None:
    """One torch thread per run (small networks; a busy shared CPU) and no chatter."""
    torch.set_num_threads(threads)
    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")


def done(records: list[dict], loss: str, data: str, seed: int) -> bool:
    return any(r["loss"] == loss and r["data"] == data and r["seed"] == seed for r in records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--losses", nargs="+", default=PRESETS, choices=group_options(CONFIG_DIR, "loss")
    )
    parser.add_argument("--data", nargs="+", default=["ring", "grid"], choices=list(TARGETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--steps", type=int, default=2000, help="generator steps per run")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--samples", type=int, default=2500)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run")
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel (processes)")
    parser.add_argument(
        "--accelerator", choices=["cpu", "gpu"], default="cpu", help="where each run trains"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "mode_collapse.md")
    args = parser.parse_args()
    quiet(args.threads)
    log = args.out.with_suffix(".jsonl")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    budget = {"steps": args.steps, "batch_size": args.batch_size}
    records = load_records(log, budget)
    started = time.perf_counter()
    todo = [
        (loss, data, seed, args.steps, args.batch_size, args.samples, args.accelerator)
        for data in args.data
        for seed in args.seeds
        for loss in args.losses
        if not done(records, loss, data, seed)
    ]
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(
        args.jobs, mp_context=context, initializer=quiet, initargs=(args.threads,)
    ) as pool:
        runs = [pool.submit(run_one, *task) for task in todo]
        for finished in concurrent.futures.as_completed(runs):  # keep each run as it ends
            record = finished.result()
            records.append(record)
            with log.open("a") as handle:
                handle.write(json.dumps(record) + "\n")
            print(
                f"[{time.perf_counter() - started:6.0f}s] {record['data']} {record['loss']} "
                f"seed {record['seed']}: {record['modes']} modes, "
                f"{100 * record['high_quality']:.1f}% HQ, KL {record['reverse_kl']:.3f}, "
                f"{record['steps_per_second']:.0f} steps/s",
                flush=True,
            )
    records = [r for r in records if r["loss"] in args.losses and r["data"] in args.data]
    result = (
        f"{args.steps} generator steps, batch {args.batch_size}, seeds "
        f"{', '.join(map(str, args.seeds))}, {args.samples} samples; mean ± std over seeds; "
        f"{torch.get_num_threads()} CPU thread(s) per run; trained on "
        f"{', '.join(sorted({r.get('accelerator', 'cpu') for r in records}))}\n\n"
        f"{table(records, args.losses, args.data)}\n"
    )
    args.out.write_text(result)
    print(result)


if __name__ == "__main__":
    main()
