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

from ganarena.data.idx_format import read_idx, write_idx

REPO = Path(__file__).resolve().parent.parent
FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=REPO / "data", help="MNIST's root")
    parser.add_argument("--count", type=int, default=5000, help="digits to keep")
    parser.add_argument("--seed", type=int, default=0, help="which digits (a permutation)")
    parser.add_argument("--out", type=Path, required=True, help="the subset's root")
    args = parser.parse_args()
    raw = args.data_dir / "MNIST" / "raw"
    if not all((raw / name).is_file() for name in FILES):
        raise SystemExit(f"MNIST's test files are not in {raw}: copy {' and '.join(FILES)} there")
    keep = np.sort(np.random.default_rng(args.seed).permutation(10_000)[: args.count])
    out = args.out / "MNIST" / "raw"
    out.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        write_idx(out / name, read_idx(raw / name)[keep])
    print(f"{args.count} of the 10,000 test digits (seed {args.seed}) in {out}; afterwards delete")
    print(
        f"{args.data_dir / 'fid_stats'}/mnist-test-28-train-{args.count}-*: FID's cached reference"
    )


if __name__ == "__main__":
    main()
