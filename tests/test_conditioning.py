"""Conditioning: labels change what G makes, every method trains with every loss, bad input."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from ganarena.conditioning import Conditioning, check_label_range
from ganarena.errors import GanArenaError
from ganarena.networks import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator
from ganarena.training import train

from .helpers import FAST, column, read_metrics

METHODS = ["concat", "projection", "acgan"]
NETWORKS = [
    (DCGANGenerator, DCGANDiscriminator, (1, 8, 8)),
    (MLPGenerator, MLPDiscriminator, (2,)),
]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("generator_cls", "discriminator_cls", "shape"), NETWORKS)
def test_the_label_changes_the_output_for_a_fixed_z(
    method, generator_cls, discriminator_cls, shape
) -> None:
    torch.manual_seed(0)
    generator = generator_cls(shape, num_classes=10, conditioning=method)
    discriminator = discriminator_cls(shape, num_classes=10, conditioning=method)
    if (
        method == "projection"
    ):  # the class-specific parts start neutral; move them as training would
        for name, parameter in [*generator.named_parameters(), *discriminator.named_parameters()]:
            if "scale" in name or "shift" in name or "embed" in name:
                torch.nn.init.normal_(parameter, 1.0, 0.5)
    generator.train()  # conditional batch norm uses the batch
    z = torch.randn(1, generator.latent_dim).repeat(4, 1)
    labels = torch.tensor([0, 1, 2, 3])
    images = generator(z, labels)
    assert not torch.allclose(images[0], images[1])
    same = generator(z, torch.zeros(4, dtype=torch.long))
    assert torch.allclose(same[0], same[1], atol=1e-6)
    if method != "acgan":  # the AC-GAN discriminator's score does not take the label
        x = images.detach()[:1].repeat(2, *[1] * len(shape))
        scores = discriminator(x, torch.tensor([0, 1]))
        assert not torch.allclose(scores[0], scores[1])


def test_acgan_discriminator_has_a_class_head() -> None:
    discriminator = DCGANDiscriminator((1, 8, 8), num_classes=10, conditioning="acgan")
    scores, logits = discriminator.score_and_classify(torch.randn(5, 1, 8, 8))
    assert scores.shape == (5,)
    assert logits.shape == (5, 10)


def test_conditioning_without_labels_names_the_fix() -> None:
    with pytest.raises(GanArenaError, match="use conditioning=none or a labelled data set"):
        Conditioning("projection", num_classes=None)


def test_unknown_method_lists_the_methods() -> None:
    with pytest.raises(GanArenaError, match="none, concat, projection, acgan"):
        Conditioning("film")


@pytest.mark.parametrize("method", METHODS)
def test_a_conditional_run_writes_one_row_per_class(compose_config, tmp_path, method) -> None:
    run = tmp_path / "run"
    train(compose_config(*FAST, f"conditioning={method}", output_dir=run))
    grid = Image.open(next((run / "samples").glob("*.png")))
    assert grid.size[1] > grid.size[0]  # 10 rows of 6 digits: taller than wide
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)
    assert checkpoint["hyper_parameters"]["config"]["conditioning"]["method"] == method


def test_labels_outside_the_class_range_are_refused() -> None:
    check_label_range(torch.tensor([0, 1, 2]), 3)
    with pytest.raises(GanArenaError, match=r"labels must lie in \[0, 3\) but range over \[0, 5\]"):
        check_label_range(torch.tensor([0, 5, 2]), 3)


def digits_array(path, shuffle: bool):
    import numpy as np
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.round(digits.images * (255 / 16)).astype(np.uint8)
    labels = digits.target.copy()
    if shuffle:
        np.random.default_rng(0).shuffle(labels)
    np.savez(path, images=images, labels=labels)
    return path


@pytest.mark.slow
def test_true_labels_teach_the_class_and_shuffled_ones_do_not(
    compose_config, tmp_path, classifier_dir
) -> None:
    accuracy = {}
    for shuffle in (False, True):
        run = tmp_path / f"shuffled-{shuffle}"
        cfg = compose_config(
            *FAST,
            "data=array",
            f"data.path={digits_array(tmp_path / f'digits-{shuffle}.npz', shuffle)}",
            "conditioning=concat",
            f"callbacks.metric_features.classifier_path={classifier_dir / 'digits-8.pt'}",
            "trainer.max_epochs=22",  # about 600 training steps
            "trainer.limit_train_batches=1.0",
            "trainer.log_every_n_steps=50",
            "callbacks.fid.num_samples=1000",
            "callbacks.conditional_accuracy.num_samples=1000",
            "callbacks.conditional_accuracy.every_n_steps=0",
            output_dir=run,
        )
        train(cfg)
        rows = read_metrics(run)
        accuracy[shuffle] = column(rows, "val/conditional_accuracy")[-1]
    assert accuracy[False] > 0.6  # the generator makes the digit it is asked for
    assert accuracy[True] < 0.25  # chance is 0.1: shuffled labels carry nothing to learn
