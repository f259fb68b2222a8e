"""Reader and writer for the IDX files of MNIST and Fashion-MNIST, plain or gzipped.

Reading the files directly (instead of through torchvision's class) accepts the `.gz` files as a
user copies them and needs only the files of the split in use.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from ganarena.errors import GanArenaError

UNSIGNED_BYTE_CODE = 0x08  # the IDX type code of uint8, the only type MNIST-style files use


def read_idx(path: Path) -> np.ndarray:
    """The array stored in an IDX file: magic (0, 0, type, ndim), big-endian int32 dims, bytes."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as file:
            raw = file.read()
    except (OSError, EOFError) as error:
        raise _corrupt(path, f"cannot read it: {error}") from None
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] != UNSIGNED_BYTE_CODE:
        raise _corrupt(path, "no uint8 IDX header")
    ndim = raw[3]
    header_size = 4 + 4 * ndim
    shape = tuple(np.frombuffer(raw, dtype=">i4", count=ndim, offset=4).tolist())
    data = np.frombuffer(raw, dtype=np.uint8, offset=header_size)
    if data.size != int(np.prod(shape)):
        raise _corrupt(path, f"header says {shape} but holds {data.size} values")
    return data.reshape(shape)


def write_idx(path: Path, array: np.ndarray) -> None:
    """An array as a uint8 IDX file, gzipped when the name ends in `.gz` (as downloads are)."""
    header = bytes([0, 0, UNSIGNED_BYTE_CODE, array.ndim])
    data = header + struct.pack(f">{array.ndim}i", *array.shape) + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def _corrupt(path: Path, reason: str) -> GanArenaError:
    return GanArenaError(f"{path} is not a valid IDX file ({reason}): delete it and copy it again")
