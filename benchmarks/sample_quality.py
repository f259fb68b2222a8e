"""Do the digits look like digits? Samples judged by a classifier that FID never reads.

Each architecture trains the default digits run (`python src/train.py model=NAME`, its
default length), or each setting given as overrides (`--settings "loss=hinge" ...`), and its
final generator makes 1,797 samples from fixed noise. They are judged:

- by an independent judge: an RBF support-vector classifier (scikit-learn's SVC, a different
  model family from the CNN that FID reads), trained on 80% of the digits; a sample counts as
  accepted when the judge gives one class a probability above 0.8;
- by k-NN precision and recall in pixel space (Kynkäänniemi et al. 2019, k = 3) against the
  1,797 real digits: the share of samples on the real manifold, and of reals on the samples';
- beside FID as the run logged it (the digits classifier's features, 10,000 samples).

Reference rows give the same figures for held-out real digits and for real digits with pixel
noise (σ = 40 of 255). Results go to `benchmarks/results/sample_quality.md` (and `.jsonl`).

    python benchmarks/sample_quality.py --settings "" --seeds 1 2 3   # the default run
    python benchmarks/sample_quality.py --models dcgan sndcgan resnet infogan --seeds 1 2 3
    python benchmarks/sample_quality.py --settings "loss=rpgan" "loss=r3gan" --seeds 1
    # small data: a tenth of the digits, as long as the default run, ± augmentation
    python benchmarks/sample_quality.py --seeds 1 2 --settings "data.fraction=0.1" \
        "data.fraction=0.1 augment=diffaugment" "data.fraction=0.1 augment=ada" -- train_steps=3360
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC

from ganarena.checkpoints import read_checkpoint
from ganarena.data import DigitsDataModule
from ganarena.evaluation import restore_module
from ganarena.metrics import precision_recall

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
CONFIDENT = 0.8
NOISE = 40 / 255 * 2  # σ of 40 out of 255 grey levels, on the [-1, 1] scale


def judge() -> tuple[SVC, float, np.ndarray]:
    """The independent judge, its held-out accuracy, and the held-out digits in [-1, 1]."""
    digits = load_digits()
    pixels = digits.images.reshape(len(digits.images), -1) / 8.0 - 1.0
    train_x, test_x, train_y, test_y = train_test_split(
        pixels, digits.target, test_size=0.2, random_state=0, stratify=digits.target
    )
    svm = SVC(probability=True, random_state=0).fit(train_x, train_y)
    return svm, float(svm.score(test_x, test_y)), test_x


def accepted(svm: SVC, samples: np.ndarray) -> float:
    return float((svm.predict_proba(samples).max(axis=1) > CONFIDENT).mean())


def judged(svm: SVC, samples: np.ndarray, real: np.ndarray) -> dict[str, float]:
    precision, recall = precision_recall(torch.from_numpy(real), torch.from_numpy(samples), k=3)
    return {"accepted": accepted(svm, samples), "precision": precision, "recall": recall}


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
        print(f"{setting}, seed {seed} failed:\n{result.stderr[-2000:]}", file=sys.stderr)
        return None, seconds
    return folder, seconds


def last_logged(run: Path, key: str) -> float:
    with open(run / "csv" / "metrics.csv") as handle:
        values = [float(row[key]) for row in csv.DictReader(handle) if row.get(key)]
    return values[-1] if values else float("nan")


@torch.no_grad()
def samples_of(run: Path, count: int) -> np.ndarray:
    checkpoint = read_checkpoint(run / "checkpoints" / "last.ckpt")
    module = restore_module(checkpoint, DigitsDataModule())
    noise = torch.randn(count, module.latent_dim, generator=torch.Generator().manual_seed(10_000))
    return module.generate(noise).reshape(count, -1).clamp(-1, 1).numpy()


def label(setting: str) -> str:
    """A row's name: its overrides, or the default run (`--settings ""`)."""
    return f"`{setting}`" if setting else "the default run (`python src/train.py`)"


def mean_std(values: list[float], scale: float = 1.0, digits: int = 1) -> str:
    mean = statistics.fmean(values) * scale
    std = (statistics.stdev(values) if len(values) > 1 else 0.0) * scale
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["dcgan", "sndcgan"])
    parser.add_argument("--settings", nargs="+", help="rows as overrides (instead of --models)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1])
    parser.add_argument("--out", type=Path, default=RESULTS / "sample_quality.md")
    parser.add_argument("overrides", nargs="*", help="more overrides for every run")
    args = parser.parse_args()
    svm, accuracy, held_out = judge()
    real = DigitsDataModule().real_samples(1797).reshape(1797, -1).numpy()
    noise = np.random.default_rng(0).normal(0, NOISE, held_out.shape)
    references = {
        "held-out real digits": judged(svm, held_out, real),
        "real digits + noise σ=40/255": judged(svm, np.clip(held_out + noise, -1, 1), real),
    }
    settings = args.settings or [f"model={model}" for model in args.models]
    records, failed = [], []
    for setting in settings:
        for seed in args.seeds:
            with tempfile.TemporaryDirectory() as folder:
                run, seconds = train_run(setting, seed, Path(folder) / "run", args.overrides)
                if run is None:
                    failed.append(setting)
                    continue
                record = judged(svm, samples_of(run, 1797), real)
                record.update(setting=setting, seed=seed, seconds=seconds,
                              fid=last_logged(run, "val/fid"))  # fmt: skip
            records.append(record)
            print(json.dumps(record), flush=True)
    lines = [
        f"Independent judge: SVC on 80% of the digits, held-out accuracy {100 * accuracy:.1f}%;"
        f" accepted = a class with probability > {CONFIDENT}. Precision and recall: k = 3"
        " nearest neighbours in pixel space, 1,797 samples against the 1,797 digits. FID: the"
        " run's last, from the digits classifier, 10,000 samples against the 1,797 digits. Mean"
        f" ± std over seeds {', '.join(map(str, args.seeds))}. Every run: "
        f"`{' '.join(args.overrides) or 'the defaults'}`.",
        "",
        "| samples | % accepted by the judge | precision | recall | FID | run, s |",
        "|---|---|---|---|---|---|",
    ]
    for name, figures in references.items():
        lines.append(
            f"| {name} | {100 * figures['accepted']:.1f} | {figures['precision']:.2f} | "
            f"{figures['recall']:.2f} | – | – |"
        )
    for setting in settings:
        runs = [r for r in records if r["setting"] == setting]
        if not runs:
            failures = failed.count(setting)
            lines.append(f"| {label(setting)} | failed ({failures} runs) | – | – | – | – |")
            continue
        lines.append(
            f"| {label(setting)} | {mean_std([r['accepted'] for r in runs], 100)} | "
            f"{mean_std([r['precision'] for r in runs], digits=2)} | "
            f"{mean_std([r['recall'] for r in runs], digits=2)} | "
            f"{mean_std([r['fid'] for r in runs], digits=2)} | "
            f"{mean_std([r['seconds'] for r in runs], digits=0)} |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    with args.out.with_suffix(".jsonl").open("w") as handle:
        handle.writelines(json.dumps(record) + "\n" for record in records)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
