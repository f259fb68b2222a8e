"""`src/eval.py`: a trained checkpoint's metrics, reproduced; a grid; samples as .npz."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import open_dict

from ganarena.config import CONFIG_DIR
from ganarena.errors import GanArenaError
from ganarena.evaluation import evaluate
from ganarena.training import train

from .helpers import FAST, REPO_ROOT, column, metric_overrides, read_metrics


def compose_eval(output_dir: Path, *overrides: str):
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("eval", overrides=list(overrides))
    with open_dict(cfg):
        cfg.paths.output_dir = str(output_dir)
    GlobalHydra.instance().clear()
    return cfg


def test_eval_reproduces_the_metrics_of_a_trained_checkpoint(
    compose_config, tmp_path, classifier_dir
) -> None:
    run = tmp_path / "run"
    train(compose_config(*FAST, *metric_overrides(classifier_dir), output_dir=run))
    logged = read_metrics(run)
    ckpt = run / "checkpoints" / "last.ckpt"
    out = tmp_path / "eval"
    evaluate(compose_eval(out, f"ckpt_path={ckpt}", "save_npz=true", "num_samples=300"))
    report = json.loads((out / "metrics.json").read_text())
    for key in ["val/fid", "val/classes_covered", "val/class_kl"]:
        assert report["metrics"][key] == pytest.approx(column(logged, key)[-1], rel=1e-4), key
    assert report["settings"]["fid"]["features"].startswith("classifier-digits-8-")
    assert (out / "samples.png").is_file()
    with np.load(out / "samples.npz") as samples:
        assert samples["samples"].shape == (300, 1, 8, 8)
        assert samples["images"].dtype == np.uint8 and samples["images"].shape == (300, 8, 8)


def test_eval_of_a_ring_checkpoint_gives_mode_coverage(compose_config, tmp_path) -> None:
    run = tmp_path / "run"
    train(compose_config(*FAST, "data=ring", output_dir=run))
    out = tmp_path / "eval"
    report = evaluate(compose_eval(out, f"ckpt_path={run / 'checkpoints' / 'last.ckpt'}"))
    assert (
        report["metrics"]["val/modes_captured"]
        == column(read_metrics(run), "val/modes_captured")[-1]
    )
    assert (out / "samples.png").is_file()


def test_eval_of_a_missing_checkpoint_names_the_fix(tmp_path) -> None:
    with pytest.raises(GanArenaError, match="is not a file"):
        evaluate(compose_eval(tmp_path, "ckpt_path=/nowhere.ckpt"))


@pytest.mark.slow
def test_two_process_run_logs_fid_computed_on_every_rank(tmp_path, classifier_dir) -> None:
    run = tmp_path / "ddp"
    command = [
        sys.executable,
        "src/train.py",
        "trainer=ddp_cpu",
        "logger=csv",
        "trainer.max_epochs=1",
        "+trainer.limit_train_batches=4",
        "trainer.log_every_n_steps=1",
        "~callbacks.rich_progress_bar",
        "+trainer.enable_progress_bar=false",
        *metric_overrides(classifier_dir, samples=301),
        f"paths.data_dir={tmp_path / 'data'}",
        f"hydra.run.dir={run}",
    ]
    subprocess.run(command, cwd=REPO_ROOT, check=True, timeout=240, capture_output=True)
    rows = read_metrics(run)
    assert column(rows, "val/fid")[0] > 0
    assert 1 <= column(rows, "val/classes_covered")[0] <= 10
