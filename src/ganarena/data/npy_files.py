"""Arrays in `.npy` / `.npz` files: their shape and dtype without reading the data, then the data.

`key` names the array inside an `.npz`; it is None for a `.npy`, which holds one array.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from ganarena.errors import GanArenaError

HEADER_READERS = {
    (1, 0): npy_format.read_array_header_1_0,
    (2, 0): npy_format.read_array_header_2_0,
}


def npz_keys(path: Path) -> list[str]:
    """Names of the arrays in an `.npz` file, in the order they were saved."""
    with np.load(path) as archive:
        return list(archive.files)


def array_header(path: Path, key: str | None) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype of an array, reading only its header (a memory map for `.npy`)."""
    try:
        if key is None:
            array = np.load(path, mmap_mode="r")
            return array.shape, array.dtype
        with zipfile.ZipFile(path) as archive, archive.open(f"{key}.npy") as member:
            version = npy_format.read_magic(member)
            if version in HEADER_READERS:
                shape, _, dtype = HEADER_READERS[version](member)
                return shape, dtype
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise GanArenaError(f"cannot read '{path}' ({error}): save it with numpy.save") from None
    array = load_array(path, key)  # a newer header version: read the array itself
    return array.shape, array.dtype


def load_array(path: Path, key: str | None) -> np.ndarray:
    """The whole array, in memory."""
    if key is None:
        return np.load(path)
    with np.load(path) as archive:
        return archive[key]
