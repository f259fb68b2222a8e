"""benchmarks/gpu_check.py, the prepared GPU check, runs every code path on the CPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from .helpers import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
import gpu_check

#: The correctness rows (cases × precisions × eager/compiled) and the speed paths per model.
CORRECTNESS_ROWS = len(gpu_check.CASES) * len(gpu_check.PRECISIONS) * 2
SPEED_ROWS = len(gpu_check.MODELS) * (1 + len(gpu_check.PATHS))


def test_draws_on_the_cpu_are_the_cpu_generators_and_torch_is_restored() -> None:
    one = torch.ones(2)
    torch.manual_seed(3)
    plain = [torch.randn(4), torch.rand(4), torch.randint(0, 9, (4,)), torch.randn_like(one)]
    originals = (torch.randn, torch.rand, torch.randint, torch.randn_like, torch.rand_like)
    torch.manual_seed(3)
    with gpu_check.draws_on_the_cpu():
        drawn = [
            torch.randn(4, device="cpu"), torch.rand(4, device=torch.device("cpu")),
            torch.randint(0, 9, (4,), device="cpu"), torch.randn_like(one),
        ]  # fmt: skip
    assert all(torch.equal(a, b) for a, b in zip(plain, drawn, strict=True))
    assert (torch.randn, torch.rand, torch.randint, torch.randn_like, torch.rand_like) == originals


def verdict(losses: tuple[float, float], precision: str) -> str:
    return gpu_check.first_step_against(losses, (1.3863, 0.6931), precision)["first step"]


def test_the_first_step_is_judged_by_the_precisions_tolerance() -> None:
    assert verdict((1.3865, 0.6932), "fp32").startswith("ok")
    assert verdict((1.42, 0.6931), "fp32").startswith("FAIL")
    assert verdict((1.40, 0.70), "bf16").startswith("ok")
    assert verdict((1.45, 0.70), "bf16").startswith("FAIL")


@pytest.mark.slow
def test_the_quick_cpu_run_writes_every_row(tmp_path) -> None:
    """`--device cpu --quick`: every path at 8x8, a few steps (about 80 s on two busy cores)."""
    paths = [str(REPO_ROOT / "src"), str(REPO_ROOT / "benchmarks")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "benchmarks/gpu_check.py", "--device", "cpu", "--quick",
               "--budget", "3000", "--out", str(tmp_path)]  # fmt: skip
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    table = (tmp_path / "gpu_check.md").read_text()
    assert table.strip() in result.stdout  # printed as written
    found = json.loads((tmp_path / "gpu_check.json").read_text())
    assert found["not_run"] == [] and "CPU" in found["machine"]["device"]
    correctness, speed = found["correctness"], found["speed"]
    assert len(correctness) == CORRECTNESS_ROWS and all(row["ok"] for row in correctness)
    assert {(r["run"], r["precision"], r["compile"]) for r in correctness} == {
        (case, precision, compiled)
        for case in gpu_check.CASES for precision in gpu_check.PRECISIONS
        for compiled in (False, True)
    }  # fmt: skip
    assert all(r["no sync on quiet steps"] == "skipped: not on a CPU" for r in correctness)
    assert len(speed) == SPEED_ROWS
    for row in speed:
        if row["path"] == "compile, CUDA graphs":
            assert row["note"] == "not run: needs CUDA"
        else:
            assert row["steps/s"] > 0 and row["peak memory"] == "n/a", row
    rows = [line for line in table.splitlines() if line.startswith("|")]
    assert len(rows) == 2 + CORRECTNESS_ROWS + 2 + SPEED_ROWS  # two header lines a table
