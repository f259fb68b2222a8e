"""How the report shows each figure: its heading, number format and scale."""

from __future__ import annotations

from typing import NamedTuple


class Column(NamedTuple):
    key: str
    heading: str
    format: str
    scale: float

    def show(self, value: float | None) -> str:
        return "–" if value is None else f"{value * self.scale:{self.format}}"


#: Figures in the order the tables show them (keys of `summary.RUN_FIGURES` and run timings).
COLUMNS = [
    Column("best_fid", "best FID", ".2f", 1),
    Column("final_fid", "final FID", ".2f", 1),
    Column("modes", "modes captured", ".1f", 1),
    Column("high_quality", "% high quality", ".1f", 100),
    Column("reverse_kl", "reverse KL", ".2f", 1),
    Column("conditional_accuracy", "% conditional accuracy", ".1f", 100),
    Column("intra_fid", "intra-FID", ".2f", 1),
    Column("precision", "precision", ".2f", 1),
    Column("recall", "recall", ".2f", 1),
    Column("wall_time_s", "wall time, s", ".0f", 1),
    Column("steps_per_second", "steps/s", ".1f", 1),
]
BY_KEY = {column.key: column for column in COLUMNS}
