"""The report's statistics on runs whose answer is known: ties, clear ranks, too few runs,
diverged runs, and the numbers (p-values, Holm, seeds needed, budget curves) exactly."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from ganarena.report import make_report, rank
from ganarena.report import statistics as st
from ganarena.report.job import summary_table
from ganarena.report.ranking import outcomes
from ganarena.report.runs import Run, run_directories
from ganarena.report.summary import Row, Table
from ganarena.report.verdict import verdict

SIX = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
#: 6 runs against 6, every run of one better: the smallest p-value, 2 of the 924 splits.
SEPARATED_P = 2 / 924


def means_of(counted: dict[str, list[float | None]]) -> dict[str, float]:
    return {o: float(np.mean([v for v in vs if v is not None])) for o, vs in counted.items()}


def test_identical_distributions_come_out_tied() -> None:
    counted = {"a": SIX, "b": list(reversed(SIX))}
    ranking = rank(counted, "min")
    assert ranking.ranked and [s.tier for s in ranking.standings] == [1, 1]
    second = ranking.standings[1]
    assert (second.beats, second.p_value, second.p_holm) == (0.5, 1.0, 1.0)
    (pair,) = ranking.pairs
    assert (pair.beats, pair.seeds_needed) == (0.5, None)  # no number of seeds separates them
    assert verdict("digits-8", "best_fid", ranking, means_of(counted)) == (
        "On digits-8 (6 runs each), by best FID (lower is better): "
        "a and b cannot be told apart (mean 3.50)."
    )


def test_clearly_separated_distributions_are_ranked_in_tiers() -> None:
    counted = {"c": [v + 20 for v in SIX], "a": SIX, "b": [v + 10 for v in SIX]}
    ranking = rank(counted, "min")
    assert ranking.ranked
    standings = {s.option: s for s in ranking.standings}
    assert [(s.option, s.tier) for s in ranking.standings] == [("a", 1), ("b", 2), ("c", 3)]
    assert (standings["b"].against, standings["b"].beats) == ("a", 0.0)
    assert standings["b"].p_value == pytest.approx(SEPARATED_P, rel=1e-12)
    assert standings["b"].p_holm == pytest.approx(2 * SEPARATED_P, rel=1e-12)  # 2 tests
    assert standings["c"].against == "b"  # tier 3 starts from the best of the rest
    assert standings["c"].p_holm == pytest.approx(SEPARATED_P, rel=1e-12)  # 1 test there
    assert ranking.pairs == []  # the best tier holds one option
    assert verdict("digits-8", "best_fid", ranking, means_of(counted)) == (
        "On digits-8 (6 runs each), by best FID (lower is better): a is best (mean 3.50); "
        "b is worse (mean 13.50); c is worse again (mean 23.50)."
    )


def test_higher_is_better_metrics_rank_the_other_way() -> None:
    ranking = rank({"few": SIX, "many": [v + 10 for v in SIX]}, "max")
    assert [(s.option, s.tier) for s in ranking.standings] == [("many", 1), ("few", 2)]


def test_a_single_run_per_loss_gets_no_ranking() -> None:
    counted = {"a": [1.0], "b": [5.0], "c": [9.0]}
    ranking = rank(counted, "min")
    assert not ranking.ranked and ranking.runs_needed == 5
    assert all(standing.tier is None for standing in ranking.standings)
    assert verdict("digits-8", "best_fid", ranking, means_of(counted)) == (
        "On digits-8 (1 run each), by best FID (lower is better): too few runs to rank: "
        "separating any two of the 3 at the 5% level after Holm's correction takes at least "
        "5 runs each; the means run from 1.00 (a) to 9.00 (c)."
    )


def test_three_seeds_of_seven_losses_are_too_few_to_rank() -> None:
    counted = {f"loss{i}": [10.0 * i, 10.0 * i + 1, 10.0 * i + 2] for i in range(7)}
    ranking = rank(counted, "min")
    # 3 runs against 3 can give p = 0.1 at best, above the 0.05 / 6 that Holm asks first.
    assert st.smallest_p(3, 3) == pytest.approx(0.1)
    assert not ranking.ranked and ranking.runs_needed == 5
    assert ranking.standings[0].option == "loss0"
    assert [pair.beats for pair in ranking.pairs] == [1.0] * 6
    assert {pair.seeds_needed for pair in ranking.pairs} == {st.seeds_needed(1.0, 6)}


def test_a_diverged_run_counts_as_worse_than_every_finished_run() -> None:
    survivors = {"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 6.0, 7.0, 8.0]}
    alone = rank(survivors, "min")  # the 3 survivors alone would separate a from b
    assert [(s.option, s.tier) for s in alone.standings] == [("a", 1), ("b", 2)]
    assert alone.standings[1].p_value == pytest.approx(2 / 56)
    counted = {"a": [1.0, 2.0, 3.0, None, None], "b": survivors["b"]}  # a diverged twice
    ranking = rank(counted, "min")
    assert [(s.option, s.tier, s.unfinished) for s in ranking.standings] == [
        ("a", 1, 2),
        ("b", 1, 0),
    ]
    (pair,) = ranking.pairs
    assert pair.beats == pytest.approx(0.6)  # a wins 15 of the 25 pairs, loses the other 10
    assert verdict("digits-8", "best_fid", ranking, {"a": 2.0, "b": 6.0}).endswith(
        "a and b cannot be told apart (mean 2.00 to 6.00). Runs that did not finish rank "
        "below every finished run (finished: a 3 of 5)."
    )
    mostly_diverged = rank({"a": [1.0, None, None, None, None], "b": survivors["b"]}, "min")
    assert [s.option for s in mostly_diverged.standings] == ["b", "a"]


def test_outcomes_count_unfinished_runs_and_skip_unmeasured_ones() -> None:
    runs = [
        Run(Path("0"), "finished", rows=[{"step": 1, "val/fid": 5.0}, {"step": 2, "val/fid": 4.0}]),
        Run(Path("1"), "diverged", rows=[{"step": 1, "val/fid": 1.0}]),  # good, then NaN
        Run(Path("2"), "failed"),
        Run(Path("3"), "finished"),  # no metrics file: not measured, not a loss
    ]
    assert outcomes(runs, "val/fid", "best", "min") == [4.0, None, None]
    assert outcomes(runs, "val/fid", "last", "min") == [4.0, None, None]


def test_holm_smallest_p_and_runs_to_separate() -> None:
    assert st.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert st.holm([0.5, 0.001]) == pytest.approx([0.5, 0.002])
    assert st.smallest_p(1, 1) == 1.0 and st.smallest_p(4, 4) == pytest.approx(2 / 70)
    assert [st.runs_to_separate(m) for m in (1, 2, 6, 11)] == [4, 5, 5, 6]


def test_seeds_needed_follow_noethers_formula() -> None:
    z = 1.959963984540054 + 0.8416212335729143  # 2.5% two-sided, 80% power
    assert st.seeds_needed(0.75, 1) == math.ceil(z**2 / (6 * 0.25**2)) == 21
    assert st.seeds_needed(0.25, 1) == 21  # the same pair, named the other way round
    assert st.seeds_needed(1.0, 1) == 6
    assert st.seeds_needed(1.0, 6) == 9  # Holm's strictest threshold, 0.05 / 6
    assert st.seeds_needed(0.5, 3) is None


def test_the_rank_test_is_exact_and_handles_ties() -> None:
    assert st.rank_test(np.array([1.0, 2, 3]), np.array([4.0, 5, 6])) == pytest.approx(0.1)
    tied = np.array([1.0, 1.0, 1.0, 1.0])
    assert st.rank_test(tied, tied.copy()) == 1.0
    # All four of a below b's four: 2 of the 70 splits are as extreme.
    a, b = np.array([1.0, 2, 3, 4]), np.array([math.inf] * 4)  # b never finished
    assert st.rank_test(a, b) == pytest.approx(2 / 70)
    assert st.beats(a, b) == 1.0 and st.beats(b, b) == 0.5


def test_bootstrap_intervals_are_seeded() -> None:
    assert st.mean_interval([2.5, 2.5, 2.5]) == (2.5, 2.5)
    assert st.mean_interval([7.0]) is None
    # With 3 runs a resample of three copies of the lowest is 1 in 27, more than 2.5%: the
    # interval reaches from the lowest run to the highest.
    assert st.mean_interval([1.0, 2.0, 3.0]) == (1.0, 3.0)
    values = [3.1, 2.7, 4.4, 3.9, 2.2, 3.3]
    low, high = st.mean_interval(values)
    assert low < np.mean(values) < high and st.mean_interval(values) == (low, high)


def test_best_of_k_is_exact_and_counts_unfinished_trials() -> None:
    expected, none_finished = st.best_of_k([3.0, 1.0, 2.0])
    assert expected == pytest.approx([2.0, 14 / 9, 36 / 27])
    assert none_finished.tolist() == [0.0, 0.0, 0.0]
    expected, none_finished = st.best_of_k([1.0, math.inf])
    assert expected.tolist() == [1.0, 1.0] and none_finished.tolist() == [0.5, 0.25]
    values = [3.0, 1.0, 2.0, 5.0, math.inf]
    expected, _ = st.best_of_k(values)
    low, high = st.best_of_k_interval(values)
    assert np.all(low <= expected) and np.all(expected <= high)


def run_with(fid: float | None, status: str = "finished") -> Run:
    rows = [] if fid is None else [{"step": 10, "val/fid": fid}]
    return Run(Path("run"), status, rows=rows)


def test_the_wandb_summary_counts_diverged_runs_as_the_report_does() -> None:
    rows = [
        Row("a", [run_with(v) for v in (1.0, 2.0, 3.0)] + [run_with(None, "diverged")] * 2),
        Row("b", [run_with(v) for v in (4.0, 5.0, 6.0, 7.0, 8.0)]),
    ]
    columns, data = summary_table(Table("digits-8", "FID", rows), "loss")
    assert columns[:6] == ["loss", "runs", "finished", "diverged", "failed", "finished share"]
    assert columns[6:12] == [f"best_fid {p}" for p in ("tier", "mean", "ci low", "ci high")] + [
        "best_fid n",
        "best_fid median",
    ]
    first = dict(zip(columns, data[0], strict=True))
    assert [first[k] for k in ("runs", "finished", "diverged", "finished share")] == [5, 3, 2, 0.6]
    assert (first["best_fid tier"], first["best_fid mean"], first["best_fid n"]) == (1, 2.0, 3)
    assert (first["best_fid ci low"], first["best_fid ci high"]) == (1.0, 3.0)
    assert dict(zip(columns, data[1], strict=True))["best_fid tier"] == 1  # tied, not ranked


def write_run(folder: Path, loss: str, seed: int, fid: float | None, lr: float = 2e-4) -> None:
    """A run's files as a study writes them; `fid` None: it diverged."""
    folder.mkdir(parents=True)
    config = {"seed": seed, "optimizer": {"lr": lr}, "callbacks": {"fid": {"num_samples": 300}}}
    hparams = {"loss": loss, "data_name": "digits-8", "data_shape": [1, 8, 8], "config": config}
    status = "finished" if fid is not None else "diverged"
    (folder / "run.json").write_text(json.dumps({"status": status, "hparams": hparams}))
    if fid is not None:
        (folder / "csv").mkdir()
        (folder / "csv" / "metrics.csv").write_text(f"step,val/fid\n5,{fid + 1}\n10,{fid}\n")


def test_the_report_opens_with_its_verdict_and_carries_tiers_for_scripts(tmp_path) -> None:
    study = tmp_path / "study"
    for seed, fid in enumerate(SIX):
        write_run(study / f"a{seed}", "lsgan", seed, fid)
        write_run(study / f"b{seed}", "minimax", seed, fid + 10)
    write_run(study / "b6", "minimax", 6, None)
    make_report(OmegaConf.create({"study_dir": str(study), "wandb": False}))
    markdown = (study / "report.md").read_text()
    sentence = (
        "On digits-8 (6 to 7 runs each), by best FID (lower is better): lsgan is best "
        "(mean 3.50); minimax is worse (mean 13.50). Runs that did not finish rank below "
        "every finished run (finished: minimax 6 of 7)."
    )
    assert markdown.split("\n\n")[2:4] == ["## Verdict", f"- {sentence}"]
    assert "| 1 | `lsgan` | 6 | 6 | 3.50 [" in markdown
    assert "| 2 | `minimax` | 7 | 6 | 13.50 [" in markdown
    report = json.loads((study / "report.json").read_text())
    assert report["method"]["alpha"] == 0.05
    (table,) = report["tables"]
    assert table["verdicts"]["best_fid"] == sentence
    ranking = table["rankings"]["best_fid"]
    assert ranking["ranked"] and ranking["comparisons"] == 1
    standings = {s["option"]: s for s in ranking["standings"]}
    assert (standings["minimax"]["tier"], standings["minimax"]["unfinished"]) == (2, 1)
    assert standings["lsgan"]["mean"] == 3.5 and standings["lsgan"]["n"] == 6
    low, high = standings["lsgan"]["ci95"]
    assert 1.0 < low < 3.5 < high < 6.0
    assert table["rows"][1]["finished_share"] == pytest.approx(6 / 7)


def test_a_study_with_numbered_jobs_and_named_reruns_reports_every_run(tmp_path) -> None:
    """Reruns kept beside a multirun's jobs ("a0" beside "0", "10") are found, in order."""
    study = tmp_path / "study"
    for folder, seed in [("10", 3), ("2", 2), ("a0", 4), ("0", 1)]:
        write_run(study / folder, "lsgan", seed, float(seed))
    assert [p.name for p in run_directories(study)] == ["a0", "0", "2", "10"]
    make_report(OmegaConf.create({"study_dir": str(study), "wandb": False}))
    markdown = (study / "report.md").read_text()
    assert "4 runs (4 finished)" in markdown
    assert all(f"| `study/{folder}` | `lsgan` |" in markdown for folder in ["a0", "0", "2", "10"])


def test_a_search_reports_its_budget_curve_with_an_interval(tmp_path) -> None:
    search = tmp_path / "search"
    for trial, (lr, fid) in enumerate([(1e-4, 3.0), (2e-4, 1.0), (5e-4, None), (1e-3, 2.0)]):
        write_run(search / str(trial), "lsgan", 1, fid, lr=lr)
    make_report(OmegaConf.create({"study_dir": str(search), "wandb": False}))
    (table,) = json.loads((search / "report.json").read_text())["tables"]
    curve = table["budgets"]["lsgan"]
    assert (curve["trials"], curve["unfinished"]) == (4, 1)
    expected, _ = st.best_of_k([3.0, 1.0, math.inf, 2.0])
    assert curve["expected"] == pytest.approx(expected.tolist())
    assert curve["none_finished"] == pytest.approx([0.25, 0.0625, 0.25**3, 0.25**4])
    assert np.all(np.array(curve["low"]) <= expected)
    assert np.all(expected <= np.array(curve["high"]))
    markdown = (search / "report.md").read_text()
    assert "### What a budget of k trials buys" in markdown
    assert f"| 1 | {expected[0]:.2f} |" in markdown
    assert (search / "expected_best_of_k_trials_digits_8.png").is_file()
