"""Studies into comparisons: tables, figures and a W&B summary from the runs' own files."""

from ganarena.report.job import make_report
from ganarena.report.ranking import rank
from ganarena.report.runs import Run, find_runs
from ganarena.report.statistics import best_of_k
from ganarena.report.summary import differences, tables

__all__ = ["Run", "best_of_k", "differences", "find_runs", "make_report", "rank", "tables"]
