"""Studies: runs that carry their configuration, one step axis, real multiruns and the report."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
import torch
import yaml
from hydra.core.hydra_config import HydraConfig
from omegaconf import OmegaConf
from PIL import Image

from ganarena.config import CONFIG_DIR, group_options
from ganarena.errors import GanArenaError
from ganarena.report import make_report
from ganarena.training import train

from .helpers import (
    DIVERGES,
    FAST,
    column,
    metric_overrides,
    read_metrics,
    run_script,
    short_runs,
    wandb_config,
    wandb_records,
    wandb_summary,
)

NO_LOGGER = [override for override in FAST if not override.startswith("logger=")]


def test_an_offline_wandb_run_carries_the_chosen_loss_its_settings_and_best_fid(
    compose_config, tmp_path, classifier_dir
) -> None:
    run = tmp_path / "run"
    overrides = [*NO_LOGGER, *metric_overrides(classifier_dir), "callbacks.fid.every_n_steps=2"]
    train(compose_config(*overrides, "logger=default", "loss=lsgan", output_dir=run))
    config = wandb_config(run)
    assert (config["loss"], config["data"], config["model"]) == ("lsgan", "digits", "compact")
    assert config["tuned"] == "digits_compact_adam"  # the settings that applied, by name
    settings = config["config"]
    assert settings["optimizer"]["generator"]["lr"] == 2e-3
    assert settings["optimizer"]["discriminator"]["lr"] == 2e-3
    assert settings["loss"]["n_critic"] == 1
    assert config["params"]["generator"] > 0 and config["params"]["discriminator"] > 0
    assert {"torch", "lightning", "torchmetrics"} <= set(config["versions"])
    fid = column(read_metrics(run), "val/fid")
    assert len(fid) == 2 and wandb_summary(run)["val/fid"] == {"min": min(fid)}
    assert wandb_summary(run)["val/classes_covered"] == {
        "max": max(column(read_metrics(run), "val/classes_covered"))
    }


def exit_codes(run: Path) -> list[int]:
    return [r.exit.exit_code for r in wandb_records(run) if r.WhichOneof("record_type") == "exit"]


def test_a_failed_run_is_finalised_as_failed(compose_config, tmp_path) -> None:
    run = tmp_path / "run"
    cfg = compose_config(*NO_LOGGER, "logger=wandb", *DIVERGES, output_dir=run)
    with pytest.raises(GanArenaError, match="is nan"):
        train(cfg)
    assert exit_codes(run) == [1]
    record = json.loads((run / "run.json").read_text())
    assert record["status"] == "diverged" and "is nan" in record["error"]
    finished = tmp_path / "finished"
    train(compose_config(*NO_LOGGER, "logger=wandb", output_dir=finished))
    assert exit_codes(finished) == [0]


def test_every_row_of_every_logger_is_on_the_training_step_axis(compose_config, tmp_path):
    run = tmp_path / "run"
    overrides = ["trainer.log_every_n_steps=2", "callbacks.fid.every_n_steps=3", "loss=wgan"]
    train(compose_config(*NO_LOGGER, "logger=many", *overrides, output_dir=run))
    rows = read_metrics(run)
    steps = [int(row["step"]) for row in rows]
    assert steps == [2, 3, 4]  # logging steps 2 and 4, FID at 3; 4 is the last step
    # kimg: real images D saw, n_critic = 5 batches of 64 per training step
    assert column(rows, "kimg") == [step * 5 * 64 / 1000 for step in steps]
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)
    assert checkpoint["global_step"] == 4 * 6  # optimizer steps, Lightning's count
    for folder in ("csv", "tensorboard"):
        hparams = yaml.safe_load((run / folder / "hparams.yaml").read_text())
        assert hparams["loss"] == "wgan" and hparams["config"]["loss"]["n_critic"] == 5


def test_train_steps_is_a_budget_in_training_steps(compose_config, tmp_path) -> None:
    run = tmp_path / "run"
    overrides = ["loss=wgan", "train_steps=3", "trainer.max_epochs=1"]
    train(
        compose_config(
            *[o for o in NO_LOGGER if "limit_train" not in o],
            *overrides,
            "logger=csv",
            output_dir=run,
        )
    )
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)
    assert checkpoint["global_step"] == 3 * (5 + 1)
    assert json.loads((run / "run.json").read_text())["training_steps"] == 3
    with pytest.raises(GanArenaError, match="both set the length of the run"):
        train(compose_config(*FAST, "train_steps=3", "trainer.max_steps=10"))


@pytest.mark.parametrize(
    "option",
    [f"study={name}" for name in group_options(CONFIG_DIR, "study")]
    + [f"hparams_search={name}" for name in group_options(CONFIG_DIR, "hparams_search")],
)
def test_every_study_and_search_composes_and_names_its_sweep_folder(compose_config, option):
    cfg = compose_config(option)
    assert cfg.hydra.sweeper.params
    HydraConfig.instance().cfg = None  # the sweep folder is resolved before any job runs
    folder = OmegaConf.to_container(cfg.hydra.sweep, resolve=True)["dir"]
    assert "/logs/studies/" in folder or "/logs/searches/" in folder


# --- real multiruns and the report ------------------------------------------------------------


def best_fid(run: Path) -> float:
    return min(column(read_metrics(run), "val/fid"))


@pytest.mark.slow
def test_a_two_loss_two_seed_study_reports_what_its_runs_logged(tmp_path, classifier_dir):
    study, more = tmp_path / "study", tmp_path / "more"
    common = short_runs(classifier_dir, tmp_path / "data")
    sweep = ["loss=nonsaturating,lsgan", "seed=1,2"]
    run_script("train.py", "-m", *sweep, *common, f"hydra.sweep.dir={study}")
    # A second multirun: a job that diverges, then one that does not (the sweep goes on).
    sweep = ["loss=nonsaturating", "seed=3", DIVERGES[1], "optimizer.discriminator.lr=1e38,2e-4"]
    run_script("train.py", "-m", *sweep, *common, f"hydra.sweep.dir={more}")
    assert json.loads((more / "1" / "run.json").read_text())["status"] == "finished"
    run_script("report.py", f"study_dir=[{study},{more}]", "wandb=false")

    report = json.loads((study / "report.json").read_text())
    (table,) = report["tables"]
    rows = {row["option"]: row for row in table["rows"]}
    counts = ("runs", "finished", "diverged", "failed")
    assert [rows["nonsaturating"][count] for count in counts] == [4, 3, 1, 0]
    assert [rows["lsgan"][k] for k in ("runs", "finished", "diverged")] == [2, 2, 0]
    expected = {
        "nonsaturating": [best_fid(study / "0"), best_fid(study / "1"), best_fid(more / "1")],
        "lsgan": [best_fid(study / "2"), best_fid(study / "3")],
    }
    for loss, values in expected.items():
        measured = rows[loss]["best_fid"]
        assert sorted(measured["values"]) == pytest.approx(sorted(values))
        assert measured["mean"] == pytest.approx(statistics.fmean(values))
        assert measured["min"] == pytest.approx(min(values))
    markdown = (study / "report.md").read_text()
    mean = rows["lsgan"]["best_fid"]["mean"]
    assert f"| – | `lsgan` | 2 | 2 | {mean:.2f} [" in markdown
    # 4 runs against 2 can never give p < 0.05: the report says so instead of ranking, and
    # counts the diverged run (the first verdict opens the report).
    ranking = table["rankings"]["best_fid"]
    assert not ranking["ranked"] and ranking["runs_needed"] == 4
    standings = {s["option"]: s for s in ranking["standings"]}
    assert (standings["nonsaturating"]["runs"], standings["nonsaturating"]["unfinished"]) == (4, 1)
    sentence = table["verdicts"]["best_fid"]
    assert "too few runs to rank" in sentence and "(finished: nonsaturating 3 of 4)" in sentence
    assert markdown.split("\n\n")[2:4] == ["## Verdict", f"- {sentence}"]
    assert "| diverged |" in markdown and "optimizer.discriminator.lr" in markdown
    figures = sorted(study.glob("*.png"))
    assert {"best_fid_of_each_run_digits_8.png", "fid_against_training_steps_digits_8.png"} <= {
        figure.name for figure in figures
    }
    assert all(Image.open(figure).size[0] > 200 for figure in figures)
    assert "![Best FID of each run](best_fid_of_each_run_digits_8.png)" in markdown


def test_report_of_a_folder_without_runs_says_so_in_one_line(tmp_path) -> None:
    with pytest.raises(GanArenaError, match=r"no runs in '.*': pass the folder a multirun wrote"):
        make_report(OmegaConf.create({"study_dir": str(tmp_path)}))
    with pytest.raises(GanArenaError, match="is not a folder"):
        make_report(OmegaConf.create({"study_dir": str(tmp_path / "nowhere")}))


def fake_run(folder: Path, status: str, data: str, fid_samples: int, rows: str | None) -> None:
    folder.mkdir(parents=True)
    config = {"seed": 1, "callbacks": {"fid": {"num_samples": fid_samples}}}
    hparams = {"loss": "lsgan", "data_name": data, "data_shape": [1, 8, 8], "config": config}
    record = {"status": status, "error": None, "hparams": hparams, "wall_time_s": 1.0}
    (folder / "run.json").write_text(json.dumps(record))
    if rows is not None:
        (folder / "csv").mkdir()
        (folder / "csv" / "metrics.csv").write_text(rows)


def test_report_keeps_protocols_apart_and_lists_runs_it_cannot_read(tmp_path, caplog) -> None:
    study = tmp_path / "study"
    fake_run(study / "0", "finished", "digits-8", 10000, "step,val/fid\n10,5.0\n20,4.0\n")
    fake_run(study / "1", "finished", "digits-8", 300, "step,val/fid\n20,9.0\n")
    fake_run(study / "2", "finished", "digits-8", 10000, None)  # no metrics file
    fake_run(study / "3", "running", "digits-8", 10000, None)  # killed: never ended
    (study / "4" / ".hydra").mkdir(parents=True)  # failed before it wrote run.json
    make_report(OmegaConf.create({"study_dir": str(study), "wandb": False}))
    report = json.loads((study / "report.json").read_text())
    by_protocol = {table["protocol"]: table["rows"][0] for table in report["tables"]}
    assert len(by_protocol) == 2  # FID on 10,000 samples and on 300: two tables, never one
    full = next(row for protocol, row in by_protocol.items() if "10000 samples" in protocol)
    assert (full["runs"], full["finished"], full["failed"]) == (3, 2, 1)  # 4: no description
    assert full["best_fid"]["values"] == [4.0]
    warnings = "\n".join(report["warnings"])
    assert "measured with 2 metric protocols" in warnings
    assert f"{study / '2'}: no csv/metrics.csv" in warnings
    assert f"{study / '4'}: no run.json" in warnings
    statuses = {Path(run["directory"]).name: run["status"] for run in report["runs"]}
    assert statuses == {
        "0": "finished",
        "1": "finished",
        "2": "finished",
        "3": "failed",
        "4": "failed",
    }
