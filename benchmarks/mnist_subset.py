"""A seeded random part of the MNIST test set, written as MNIST's download lays it out.

Trains the MNIST settings on fewer digits (`data.root=<out>`) to see whether what a step
count buys depends on how many images there are, where the 60,000 training images are not
at hand:

    python benchmarks/mnist_subset.py --count 5000 --out /tmp/mnist5k
    python benchmarks/sample_quality.py --data mnist --settings "data.root=/tmp/mnist5k" --seeds 1 2

Feature statistics for FID are cached by data name, split and count, so delete
`data/fid_stats/mnist-test-28-train-<count>-*` afterwards: the subset is not the test set.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ganarena.data import MNISTDataModule
from ganarena.data.idx_format import read_idx, write_idx
from ganarena.errors import GanArenaError
from ganarena.metrics.feature_bank import REAL_SPLIT

REPO = Path(__file__).resolve().parent.parent


def as_copied(datamodule: MNISTDataModule, name: str) -> Path:
    """The split's file as the user copied it: gzipped, as downloaded, or not."""
    gzipped = datamodule.data_dir / f"{name}.gz"
    return gzipped if gzipped.is_file() else datamodule.data_dir / name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=REPO / "data", help="MNIST's root")
    parser.add_argument("--count", type=int, default=5000, help="digits to keep")
    parser.add_argument("--seed", type=int, default=0, help="which digits (a permutation)")
    parser.add_argument("--out", type=Path, required=True, help="the subset's root")
    args = parser.parse_args()
    test_set = MNISTDataModule(root=str(args.data_dir), download=False, train=False)
    subset = MNISTDataModule(root=str(args.out), download=False, train=False)
    try:
        test_set.prepare_data()  # the one-line error of a training run when the files are missing
    except GanArenaError as error:
        raise SystemExit(str(error)) from None
    files = [as_copied(test_set, name) for name in test_set.split_files]  # images, labels
    arrays = [read_idx(file) for file in files]
    keep = np.sort(np.random.default_rng(args.seed).permutation(len(arrays[0]))[: args.count])
    subset.data_dir.mkdir(parents=True, exist_ok=True)
    for file, array in zip(files, arrays, strict=True):
        write_idx(subset.data_dir / file.name, array[keep])
    cache = args.data_dir / "fid_stats" / f"{subset.name}-{REAL_SPLIT}-{args.count}-*"
    print(f"{args.count} test digits (seed {args.seed}) in {subset.data_dir}; afterwards delete")
    print(f"{cache}: FID's cached real features, keyed by name, not by these files")


if __name__ == "__main__":
    main()
