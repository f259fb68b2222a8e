"""Report on a study: `python src/report.py study_dir=logs/studies/<study>/<date>_<time>`.

A thin Hydra entry point; the job itself is `ganarena.report.make_report`. Reads every run's
`run.json` and `csv/metrics.csv` and writes `report.md`, `report.json` and PNG figures into
the (first) study folder; `study_dir=[DIR1,DIR2]` reports several multiruns together.
"""

from ganarena.cli import run_job
from ganarena.report import make_report

if __name__ == "__main__":
    run_job(make_report, config_name="report")
