"""Metric callbacks in real training runs: logged values, skips, offline Inception, bad input."""

from __future__ import annotations

import logging

import pytest
import torch

from ganarena.compat import save_random_inception_weights
from ganarena.errors import GanArenaError
from ganarena.training import train

from .helpers import FAST, column, metric_overrides, read_metrics


def test_default_digits_run_logs_fid_class_coverage_and_diagnostics(
    compose_config, tmp_path, classifier_dir
) -> None:
    run = tmp_path / "run"
    train(compose_config(*FAST, *metric_overrides(classifier_dir), output_dir=run))
    rows = read_metrics(run)
    assert len(rows) == 4  # the end-of-fit figures share the last step's row
    fid = column(rows, "val/fid")
    assert len(fid) == 1 and fid[0] > 0
    assert column(rows, "val/fid_best") == fid
    assert 1 <= column(rows, "val/classes_covered")[0] <= 10
    for key in [
        "diag/p_real",
        "diag/acc_fake",
        "diag/grad_norm_g",
        "diag/grad_norm_d",
        "diag/total_loss",
    ]:
        assert len(column(rows, key)) == 4, key
    # The gradient view of the BCE D loss: weights σ(f) on fakes and 1-σ(r) on reals.
    for row in rows:
        assert float(row["diag/weight_d_fake"]) == pytest.approx(float(row["diag/p_fake"]))
        assert float(row["diag/weight_d_real"]) == pytest.approx(1 - float(row["diag/p_real"]))
        total = float(row["train/loss_d"]) + float(row["train/loss_g"])  # NS: L_G is sp(-f)
        assert float(row["diag/total_loss"]) == pytest.approx(total, rel=1e-5)


def test_ring_run_logs_mode_coverage_and_skips_image_metrics(compose_config, tmp_path, caplog):
    run = tmp_path / "run"
    with caplog.at_level(logging.INFO):
        train(compose_config(*FAST, "data=ring", output_dir=run))
    rows = read_metrics(run)
    assert 0 <= column(rows, "val/modes_captured")[0] <= 8
    assert 0 <= column(rows, "val/high_quality_fraction")[0] <= 1
    assert not column(rows, "val/fid")
    assert "fid: skipped: ring-8" in caplog.text
    assert not (tmp_path / "run" / "data" / "classifiers").exists()


def test_fid_can_be_the_checkpoint_monitor_and_the_optimized_metric(
    compose_config, tmp_path, classifier_dir
) -> None:
    run = tmp_path / "run"
    cfg = compose_config(
        *FAST,
        *metric_overrides(classifier_dir),
        "callbacks.fid.every_n_steps=2",
        "callbacks.model_checkpoint.monitor=val/fid",
        "callbacks.model_checkpoint.every_n_train_steps=4",  # optimizer steps: training step 2
        "optimized_metric=val/fid",
        output_dir=run,
    )
    value = train(cfg)
    rows = read_metrics(run)
    assert column(rows, "val/fid")[-1] == pytest.approx(value)
    assert len(column(rows, "val/fid")) == 2  # steps 2 and 4 (4 is also the end of fit)
    assert list((run / "checkpoints").glob("epoch_*.ckpt"))


def test_user_module_features_from_a_target(compose_config, tmp_path, classifier_dir) -> None:
    run = tmp_path / "run"
    train(
        compose_config(
            *FAST,
            *metric_overrides(classifier_dir),
            "~callbacks.class_coverage",
            "callbacks.metric_features.name=module",
            "callbacks.metric_features.module={_target_: torch.nn.Flatten}",
            output_dir=run,
        )
    )
    assert column(read_metrics(run), "val/fid")[0] > 0
    assert list((run / "data" / "fid_stats").glob("digits-8-train-300-module-torch.nn*.pt"))


def test_classifier_for_other_data_is_a_clear_error(compose_config, classifier_dir) -> None:
    cfg = compose_config(
        *FAST,
        *metric_overrides(classifier_dir),
        "data.image_size=16",
        f"callbacks.metric_features.classifier_path={classifier_dir / 'digits-8.pt'}",
    )
    with pytest.raises(GanArenaError, match=r"reads samples of shape \(1, 8, 8\) but the data"):
        train(cfg)


def test_kid_with_too_few_samples_fails_at_start_up(compose_config, classifier_dir) -> None:
    cfg = compose_config(
        *FAST,
        *metric_overrides(classifier_dir),
        "callbacks=[default,kid]",
        "callbacks.kid.num_samples=200",
    )
    with pytest.raises(
        GanArenaError, match=r"kid.subset_size=1000 .* set callbacks.kid.subset_size"
    ):
        train(cfg)


INCEPTION_RUN = [
    "callbacks.metric_features.name=inception",
    "callbacks.metric_features.inception_dims=64",
    "callbacks.fid.num_samples=4",
    "callbacks.fid.batch_size=4",
    "trainer.limit_train_batches=2",
    "~callbacks.class_coverage",
    "~callbacks.precision_recall",  # FID alone: Inception on a CPU is slow
]


def test_inception_from_a_local_weights_file_offline(
    compose_config, tmp_path, offline, monkeypatch
) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    weights = save_random_inception_weights(tmp_path / "pt_inception-2015-12-05-6726825d.pth")
    run = tmp_path / "run"
    train(
        compose_config(
            *FAST,
            *INCEPTION_RUN,
            f"callbacks.metric_features.inception_weights_path={weights}",
            output_dir=run,
        )
    )
    assert column(read_metrics(run), "val/fid")[0] >= 0
    (stats,) = (run / "data" / "fid_stats").glob("*.pt")
    assert "inception64-tf-resize" in stats.name  # the classic resize, recorded in the key


def test_no_inception_weights_offline_disables_fid_and_training_goes_on(
    compose_config, tmp_path, offline, monkeypatch, caplog
) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    run = tmp_path / "run"
    with caplog.at_level(logging.WARNING):
        train(compose_config(*FAST, *INCEPTION_RUN, output_dir=run))
    rows = read_metrics(run)
    assert len(rows) == 2 and not column(rows, "val/fid")
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("fid:")]
    assert "disabled, training goes on" in line
    assert "inception_weights_path=/path/to/pt_inception-2015-12-05-6726825d.pth" in line
    assert "metric_features.name=domain_classifier" in line
    assert "\n" not in line


@pytest.mark.parametrize("foreign", [False, True], ids=["missing", "foreign"])
def test_a_missing_or_foreign_classifier_names_the_command_that_trains_one(
    tmp_path, foreign
) -> None:
    from ganarena.features.classifier import DomainClassifierFeatures

    path = tmp_path / "digits-8.pt"
    if foreign:
        torch.save({"format": "something else"}, path)
    with pytest.raises(GanArenaError) as error:
        DomainClassifierFeatures(path)
    message = str(error.value)
    assert message.endswith("train one with python src/train_classifier.py data=NAME")
    assert "{" not in message and "\n" not in message
