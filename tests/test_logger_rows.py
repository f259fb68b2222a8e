"""A logging step's row: every value as a number, the tensors read off the device together."""

from __future__ import annotations

import pytest
import torch

from ganarena.logger_rows import LoggerRows, as_floats


def test_values_become_the_numbers_float_gives_in_their_order() -> None:
    values = {
        "kimg": 1.5,
        "step": 3,
        "loss": torch.tensor(0.25),
        "fid": torch.tensor(12.345678901234, dtype=torch.float64),
        "count": torch.tensor(7),
        "finite": torch.tensor(True),
        "penalty": torch.tensor([[0.125]]),  # one number, whatever the shape
    }
    row = as_floats(values)
    assert list(row) == list(values)
    assert row == {key: float(value) for key, value in values.items()}
    assert all(type(number) is float for number in row.values())


def test_tensors_are_read_once_per_dtype_not_once_each(monkeypatch) -> None:
    reads = []
    for name in ("item", "tolist", "__float__"):
        method = getattr(torch.Tensor, name)
        monkeypatch.setattr(
            torch.Tensor,
            name,
            lambda self, *a, _m=method, _n=name: reads.append(_n) or _m(self, *a),
        )
    values = {f"diag/{i}": torch.tensor(float(i)) for i in range(12)}
    values["fid"] = torch.tensor(3.0, dtype=torch.float64)
    values["kimg"] = 0.5
    rows = LoggerRows()
    rows.add(values)
    rows.write([], step=50)
    assert reads == ["tolist", "tolist"]  # float32 and float64
    assert rows.last_written["diag/11"] == 11.0 and rows.last_written["kimg"] == 0.5


def test_a_tensor_of_several_numbers_is_refused() -> None:
    with pytest.raises(RuntimeError):
        as_floats({"scores": torch.ones(3)})
