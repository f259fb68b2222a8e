"""What a figure means: FID, KID, precision and recall of known sample sets, per feature network.

The real samples of a data set are split in two halves at random (seed 0): the first is the
reference, and each row scores the second half, changed in one known way, against it:

- held-out real: the second half as it is (the best a generator can do at this sample count);
- pixel noise: Gaussian noise of σ = 40/255 and 100/255 of the grey range, clipped;
- blurred: a Gaussian blur of σ = 0.5 and 1 pixel (5x5 kernel);
- shuffled pixels: each image's pixels in a random order (right intensities, no structure);
- one class: as many images, all of the first class (a generator collapsed to one mode);
- one image: one real image repeated.

Features: the data's domain classifier (what `val/fid` reads by default), or Inception
(`--features inception --inception-weights PATH`). On stacked data the figures add the modes
covered of 1,000 and the KL from uniform, counted as `val/modes_captured` is.

    python benchmarks/calibration.py --data digits
    python benchmarks/calibration.py --data stacked_digits
    python benchmarks/calibration.py --data mnist --root data  # the MNIST test set, by hand
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor
from torchvision.transforms.functional import gaussian_blur

from ganarena.data import DigitsDataModule, MNISTDataModule, StackedDataModule
from ganarena.data.base import GANDataModule
from ganarena.features import FeatureExtractor, FeatureSpec, build_feature_extractor
from ganarena.metrics import frechet_distance, precision_recall
from ganarena.metrics.class_coverage import ClassCoverage
from ganarena.metrics.distances import kernel_distance_metric, seeded_compute
from ganarena.metrics.feature_bank import embed

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
GREY_LEVELS = 255 / 2  # the [-1, 1] range is 255 grey levels wide


def data_module(name: str, root: str) -> GANDataModule:
    if name == "digits":
        return DigitsDataModule()
    if name == "stacked_digits":
        return StackedDataModule(DigitsDataModule(), num_samples=20_000)
    if name == "mnist":  # the test split: the one that lies on this machine
        return MNISTDataModule(root=root, download=False, train=False, image_size=28)
    raise SystemExit(f"unknown --data {name}: digits, stacked_digits or mnist")


Change = Callable[[Tensor, Tensor, torch.Generator], Tensor]


def noisy(sigma: float) -> Change:
    def change(images: Tensor, labels: Tensor, generator: torch.Generator) -> Tensor:
        noise = torch.randn(images.shape, generator=generator) * sigma / GREY_LEVELS
        return (images + noise).clamp(-1, 1)

    return change


def blurred(sigma: float) -> Change:
    def change(images: Tensor, labels: Tensor, generator: torch.Generator) -> Tensor:
        return gaussian_blur(images, kernel_size=5, sigma=sigma)

    return change


def shuffled(images: Tensor, labels: Tensor, generator: torch.Generator) -> Tensor:
    flat = images.flatten(2)  # each channel of each image shuffled alike
    order = torch.rand(len(images), flat.shape[2], generator=generator).argsort(dim=1)
    return flat.gather(2, order[:, None, :].expand_as(flat)).reshape(images.shape)


def one_class(images: Tensor, labels: Tensor, generator: torch.Generator) -> Tensor:
    members = images[labels == labels.min()]
    return members[torch.randint(len(members), (len(images),), generator=generator)]


def one_image(images: Tensor, labels: Tensor, generator: torch.Generator) -> Tensor:
    return images[:1].expand_as(images).clone()


CHANGES: dict[str, Change] = {
    "held-out real": lambda images, labels, generator: images,
    "pixel noise σ=40/255": noisy(40),
    "pixel noise σ=100/255": noisy(100),
    "blurred, σ = 0.5 px": blurred(0.5),
    "blurred, σ = 1 px": blurred(1.0),
    "shuffled pixels": shuffled,
    "one class (collapsed)": one_class,
    "one image": one_image,
}


def kid(real: Tensor, fake: Tensor) -> float:
    size = min(1000, len(real), len(fake))
    metric = kernel_distance_metric(real.shape[1], subsets=100, subset_size=size)
    metric.update(real.double(), real=True)
    metric.update(fake.double(), real=False)
    mean, _ = seeded_compute(metric, 0)
    return float(mean)


def modes(extractor: FeatureExtractor, logits: Tensor) -> dict[str, float]:
    assert extractor.num_classes is not None
    metric = ClassCoverage(extractor.num_classes)
    metric.set_uniform_reference()
    metric.update(logits)
    covered, kl = metric.compute()
    return {"modes": float(covered), "kl_uniform": float(kl)}


def calibrate(datamodule: GANDataModule, extractor: FeatureExtractor, count: int) -> list[dict]:
    images, labels = datamodule.real_samples(count), datamodule.real_labels(count)
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
    half = len(images) // 2
    reference = embed(extractor, images[order[:half]], 500)
    held_out, held_labels = images[order[half:]], labels[order[half:]]
    stacked = datamodule.stacked_from is not None
    rows = []
    for name, change in CHANGES.items():
        generator = torch.Generator().manual_seed(1)
        fake = embed(extractor, change(held_out, held_labels, generator), 500)
        precision, recall = precision_recall(reference.features, fake.features, k=3)
        row = {
            "samples": name,
            "fid": frechet_distance(reference.features, fake.features),
            "kid": kid(reference.features, fake.features),
            "precision": precision,
            "recall": recall,
        }
        if stacked:
            assert fake.logits is not None
            row.update(modes(extractor, fake.logits))
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def table(rows: list[dict], header: str) -> list[str]:
    stacked = "modes" in rows[0]
    columns = "| samples | FID | KID | precision | recall |" + (
        " modes of 1,000 | KL from uniform |" if stacked else ""
    )
    lines = [header, "", columns, "|" + "---|" * (columns.count("|") - 1)]
    for row in rows:
        line = (
            f"| {row['samples']} | {row['fid']:.2f} | {row['kid']:.3f} | "
            f"{row['precision']:.2f} | {row['recall']:.2f} |"
        )
        if stacked:
            line += f" {row['modes']:.0f} | {row['kl_uniform']:.2f} |"
        lines.append(line)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="digits", help="digits | stacked_digits | mnist")
    parser.add_argument("--root", default="data", help="where MNIST/raw lies (--data mnist)")
    parser.add_argument("--count", type=int, default=20_000, help="real samples, at most")
    parser.add_argument("--features", default="domain_classifier")
    parser.add_argument("--classifier-dir", default=str(REPO / "data" / "classifiers"))
    parser.add_argument("--inception-weights", default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    datamodule = data_module(args.data, args.root)
    datamodule.setup("fit")
    spec = FeatureSpec(
        name=args.features,
        classifier_dir=args.classifier_dir,
        inception_weights_path=args.inception_weights,
    )
    extractor = build_feature_extractor(spec, datamodule)
    count = min(args.count, len(datamodule.train_dataset))
    rows = calibrate(datamodule, extractor, count)
    half = count // 2
    header = (
        f"{datamodule.name}, features `{extractor.identity}` ({extractor.num_features}-d): "
        f"{count - half} changed samples against {half} reference samples (two random halves "
        "of the real data); k = 3 for precision and recall, KID on 100 subsets of "
        f"{min(1000, half)}."
    )
    lines = table(rows, header)
    out = args.out or RESULTS / f"calibration_{args.data}_{args.features}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    out.with_suffix(".jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
