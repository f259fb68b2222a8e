"""Do the samples look like digits? Samples judged by a classifier that FID never reads.

Each architecture trains the default run of the data (`python src/train.py model=NAME`, its
default length), or each setting given as overrides (`--settings "loss=hinge" ...`), and its
final generator makes samples from fixed noise. They are judged:

- by an independent judge: an RBF support-vector classifier on pixels (scikit-learn's SVC, a
  different model family from the CNN that FID reads), trained apart on real digits; a sample
  counts as accepted when the judge gives one class a probability above 0.8;
- by k-NN precision and recall in pixel space (Kynkäänniemi et al. 2019, k = 3) against real
  digits: the share of samples on the real manifold, and of reals on the samples';
- beside FID as the run logged it (the domain classifier's features, 10,000 samples).

Reference rows give the same figures for held-out real digits (never seen by the judge) and
for them with pixel noise (σ = 40 of 255). Two data sets (`--data`):

- `digits` (the default): the 1,797 bundled 8x8 digits; the judge trains on 80% of them and
  1,797 samples are compared with all 1,797 digits.
- `mnist`: the MNIST test set (10,000 28x28 digits in `<data dir>/MNIST/raw/`), which every run
  trains on (`data=mnist data.train=false`). It is split once, per class: 5,000 digits train the
  judge, 2,500 are the reference that precision and recall compare with, and 2,500 are held out
  from both, for the reference rows; 2,500 samples are judged. The GAN has seen all 10,000
  (the judge's are MNIST's test images, not the 60,000 training images), so `nn_ratio` in the
  `.jsonl` checks for copying: the samples' median distance to their nearest reference digit
  over that of the held-out digits (about 1: no closer than new real digits; well below 1:
  copies).

Results go to `benchmarks/results/sample_quality[_mnist].md` (and `.jsonl`).

    python benchmarks/sample_quality.py --settings "" --seeds 1 2 3   # the default run
    python benchmarks/sample_quality.py --models dcgan sndcgan resnet infogan --seeds 1 2 3
    python benchmarks/sample_quality.py --settings "loss=rpgan" "loss=r3gan" --seeds 1
    python benchmarks/sample_quality.py --data mnist --settings "" --seeds 1 2 3 --grids docs/images
    # small data: a tenth of the digits, as long as the default run, ± augmentation
    python benchmarks/sample_quality.py --seeds 1 2 --settings "data.fraction=0.1" \
        "data.fraction=0.1 augment=diffaugment" "data.fraction=0.1 augment=ada" -- train_steps=3360
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC

from ganarena.checkpoints import read_checkpoint
from ganarena.data import DigitsDataModule, GANDataModule, MNISTDataModule
from ganarena.evaluation import restore_module
from ganarena.metrics import precision_recall

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
CONFIDENT = 0.8
NOISE = 40 / 255 * 2  # σ of 40 out of 255 grey levels, on the [-1, 1] scale
MNIST_SPLIT = (5000, 2500, 2500)  # judge, reference, held out: of the 10,000 test digits


@dataclass(frozen=True)
class Bench:
    """What samples of one data set are judged against, and how its runs are made."""

    svm: SVC
    accuracy: float  # the judge's, on the held-out digits
    reference: np.ndarray  # real digits that precision and recall compare with
    held_out: np.ndarray  # real digits the judge never saw: the reference rows
    datamodule: GANDataModule  # restores a run's generator
    overrides: tuple[str, ...]  # what every run adds
    count: int  # samples judged per run
    protocol: str  # how the figures were made, for the results' first line


def fit_judge(train_x: np.ndarray, train_y: np.ndarray) -> SVC:
    return SVC(probability=True, random_state=0).fit(train_x, train_y)


def digits_bench() -> Bench:
    """The bundled digits: judge on 80%, precision and recall against all 1,797."""
    digits = load_digits()
    pixels = digits.images.reshape(len(digits.images), -1) / 8.0 - 1.0
    train_x, test_x, train_y, test_y = train_test_split(
        pixels, digits.target, test_size=0.2, random_state=0, stratify=digits.target
    )
    svm = fit_judge(train_x, train_y)
    datamodule = DigitsDataModule()
    real = datamodule.real_samples(1797).reshape(1797, -1).numpy()
    accuracy = float(svm.score(test_x, test_y))
    protocol = (
        f"Independent judge: SVC on 80% of the digits, held-out accuracy {100 * accuracy:.1f}%;"
        f" accepted = a class with probability > {CONFIDENT}. Precision and recall: k = 3"
        " nearest neighbours in pixel space, 1,797 samples against the 1,797 digits. FID: the"
        " run's last, from the digits classifier, 10,000 samples against the 1,797 digits."
    )
    return Bench(svm, accuracy, real, test_x, datamodule, (), 1797, protocol)


def mnist_test_digits(root: Path) -> tuple[MNISTDataModule, np.ndarray, np.ndarray]:
    """The MNIST test set's module, its digits as rows in [-1, 1] and their labels; one line
    that says what to copy where when the files are missing."""
    datamodule = MNISTDataModule(root=str(root), download=False, train=False)
    datamodule.prepare_data()
    dataset = datamodule.load_dataset()
    pixels = dataset.samples.reshape(len(dataset), -1).float().numpy() / 127.5 - 1.0
    return datamodule, pixels, dataset.labels.numpy()


def mnist_bench(root: Path) -> Bench:
    """The MNIST test set split three ways per class: judge, reference, held out."""
    datamodule, pixels, labels = mnist_test_digits(root)
    judge_size, reference_size, held_out_size = MNIST_SPLIT
    judge_x, rest_x, judge_y, rest_y = train_test_split(
        pixels, labels, train_size=judge_size, random_state=0, stratify=labels
    )
    reference, held_out, _, held_out_y = train_test_split(
        rest_x, rest_y, train_size=reference_size, random_state=0, stratify=rest_y
    )
    svm = fit_judge(judge_x, judge_y)
    accuracy = float(svm.score(held_out, held_out_y))
    protocol = (
        f"Independent judge: SVC on the pixels of {judge_size:,} MNIST test digits, accuracy"
        f" {100 * accuracy:.1f}% on {held_out_size:,} held-out ones; accepted = a class with"
        f" probability > {CONFIDENT}. Precision and recall: k = 3 nearest neighbours in pixel"
        f" space, {held_out_size:,} samples against {reference_size:,} other test digits. FID:"
        " the run's last, from the MNIST-test domain classifier, 10,000 samples. Every run"
        " trains on all 10,000 test digits."
    )
    overrides = ("data=mnist", "data.train=false", f"paths.data_dir={root}")
    return Bench(svm, accuracy, reference, held_out, datamodule, overrides, held_out_size, protocol)


def accepted(svm: SVC, samples: np.ndarray) -> float:
    return float((svm.predict_proba(samples).max(axis=1) > CONFIDENT).mean())


def judged(bench: Bench, samples: np.ndarray) -> dict[str, float]:
    real = torch.from_numpy(bench.reference).float()
    precision, recall = precision_recall(real, torch.from_numpy(samples).float(), k=3)
    return {"accepted": accepted(bench.svm, samples), "precision": precision, "recall": recall}


def nearest_distance_ratio(bench: Bench, samples: np.ndarray) -> float:
    """Median distance of samples to their nearest reference digit over that of the held-out
    digits: well below 1 means the samples copy the digits the GAN trained on."""
    real = torch.from_numpy(bench.reference).float()

    def median_nearest(rows: np.ndarray) -> float:
        return float(torch.cdist(torch.from_numpy(rows).float(), real).min(dim=1).values.median())

    return median_nearest(samples) / median_nearest(bench.held_out)


def train_run(setting: str, seed: int, folder: Path, extra: list[str]) -> tuple[Path | None, float]:
    """The run's folder and its seconds; no folder when it stopped with an error (a diverged
    loss, say), which is then printed and reported as such."""
    command = [sys.executable, "src/train.py", *setting.split(), f"seed={seed}", "logger=csv"]
    command += ["~callbacks.rich_progress_bar", "+trainer.enable_progress_bar=false", *extra]
    command.append(f"hydra.run.dir={folder}")
    env = {**os.environ, "WANDB_MODE": "disabled"}
    start = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        output = result.stderr + result.stdout  # the run logs its one-line error to stdout
        print(f"{setting}, seed {seed} failed:\n{output[-2000:]}", file=sys.stderr)
        return None, seconds
    return folder, seconds


def last_logged(run: Path, key: str) -> float:
    with open(run / "csv" / "metrics.csv") as handle:
        values = [float(row[key]) for row in csv.DictReader(handle) if row.get(key)]
    return values[-1] if values else float("nan")


@torch.no_grad()
def samples_of(run: Path, bench: Bench) -> np.ndarray:
    checkpoint = read_checkpoint(run / "checkpoints" / "last.ckpt")
    module = restore_module(checkpoint, bench.datamodule)
    noise = torch.randn(
        bench.count, module.latent_dim, generator=torch.Generator().manual_seed(10_000)
    )
    return module.generate(noise).reshape(bench.count, -1).clamp(-1, 1).numpy()


def keep_grid(run: Path, grids: Path, setting: str, seed: int) -> None:
    """Copy the run's last sample grid (the fixed noise of the samples callback)."""
    pictures = sorted(
        (run / "samples").glob("step_*.png"), key=lambda p: int(p.stem.split("_")[-1])
    )
    if pictures:
        name = re.sub(r"[^A-Za-z0-9.,_-]+", "-", "_".join(setting.split())) or "default"
        if len(name) > 100:  # file names stop at 255 bytes: a readable head and a digest
            name = f"{name[:80]}-{hashlib.sha1(setting.encode()).hexdigest()[:10]}"
        grids.mkdir(parents=True, exist_ok=True)
        shutil.copy(pictures[-1], grids / f"{name}_seed{seed}_{pictures[-1].name}")


def label(setting: str, bench: Bench) -> str:
    """A row's name: its overrides, or the data's default run (`--settings ""`)."""
    shared = [o for o in bench.overrides if not o.startswith("paths.")]  # no machine's paths
    command = " ".join(["python src/train.py", *shared])
    return f"`{setting}`" if setting else f"the default run (`{command}`)"


def mean_std(values: list[float], scale: float = 1.0, digits: int = 1) -> str:
    """Mean ± standard deviation over seeds; one seed has no spread to show."""
    mean = statistics.fmean(values) * scale
    if len(values) == 1:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {statistics.stdev(values) * scale:.{digits}f}"


def reference_rows(bench: Bench) -> dict[str, dict[str, float]]:
    noise = np.random.default_rng(0).normal(0, NOISE, bench.held_out.shape)
    return {
        "held-out real digits": judged(bench, bench.held_out),
        "real digits + noise σ=40/255": judged(bench, np.clip(bench.held_out + noise, -1, 1)),
    }


def table(bench: Bench, args: argparse.Namespace, settings: list[str], records: list[dict],
          failed: list[str]) -> list[str]:  # fmt: skip
    """The results as markdown: the protocol, the reference rows, then one row per setting."""
    every_run = " ".join(args.overrides) or "the defaults"
    seeds = ", ".join(map(str, args.seeds))
    over = f"Mean ± std over seeds {seeds}." if len(args.seeds) > 1 else f"Seed {seeds}."
    lines = [
        f"{bench.protocol} {over} Every run: `{every_run}`.",
        "",
        "| samples | % accepted by the judge | precision | recall | FID | run, s |",
        "|---|---|---|---|---|---|",
    ]
    for name, figures in reference_rows(bench).items():
        lines.append(
            f"| {name} | {100 * figures['accepted']:.1f} | {figures['precision']:.2f} | "
            f"{figures['recall']:.2f} | – | – |"
        )
    for setting in settings:
        runs = [r for r in records if r["setting"] == setting]
        if not runs:
            failures = failed.count(setting)
            lines.append(f"| {label(setting, bench)} | failed ({failures} runs) | – | – | – | – |")
            continue
        lines.append(
            f"| {label(setting, bench)} | {mean_std([r['accepted'] for r in runs], 100)} | "
            f"{mean_std([r['precision'] for r in runs], digits=2)} | "
            f"{mean_std([r['recall'] for r in runs], digits=2)} | "
            f"{mean_std([r['fid'] for r in runs], digits=2)} | "
            f"{mean_std([r['seconds'] for r in runs], digits=0)} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", choices=["digits", "mnist"], default="digits")
    parser.add_argument("--data-dir", type=Path, default=REPO / "data", help="mnist: its root")
    parser.add_argument("--models", nargs="+", default=["dcgan", "sndcgan"])
    parser.add_argument("--settings", nargs="+", help="rows as overrides (instead of --models)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1])
    parser.add_argument("--out", type=Path, help="default: results/sample_quality[_mnist].md")
    parser.add_argument("--grids", type=Path, help="keep each run's last sample grid here")
    parser.add_argument("overrides", nargs="*", help="more overrides for every run")
    args = parser.parse_args()
    bench = mnist_bench(args.data_dir.resolve()) if args.data == "mnist" else digits_bench()
    out = args.out or RESULTS / f"sample_quality{'_mnist' if args.data == 'mnist' else ''}.md"
    settings = args.settings or [f"model={model}" for model in args.models]
    records, failed = [], []
    for setting in settings:
        for seed in args.seeds:
            with tempfile.TemporaryDirectory() as folder:
                extra = [*bench.overrides, *args.overrides]
                run, seconds = train_run(setting, seed, Path(folder) / "run", extra)
                if run is None:
                    failed.append(setting)
                    continue
                samples = samples_of(run, bench)
                record = judged(bench, samples)
                record.update(setting=setting, seed=seed, seconds=seconds,
                              fid=last_logged(run, "val/fid"))  # fmt: skip
                if args.data == "mnist":
                    record["nn_ratio"] = nearest_distance_ratio(bench, samples)
                print(json.dumps(record), flush=True)
                if args.grids:
                    keep_grid(run, args.grids, setting, seed)
            records.append(record)
    lines = table(bench, args, settings, records, failed)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    with out.with_suffix(".jsonl").open("w") as handle:
        handle.writelines(json.dumps(record) + "\n" for record in records)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
