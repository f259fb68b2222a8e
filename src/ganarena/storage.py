"""Files that several processes share or that a kill may interrupt: written whole or not at all.

A file is written under a temporary name beside its target and renamed over it; the rename is
atomic on POSIX file systems, so a reader (another rank, another run, a resumed job) sees the
old file or the new one, never half of one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch


def replace_atomically(path: Path, write: Callable[[Path], object]) -> Path:
    """Call `write(temporary_path)`, then rename the result over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        write(partial)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def save_atomically(payload: Any, path: Path) -> Path:
    """`torch.save(payload, path)`, so that an interrupted write leaves `path` as it was."""
    return replace_atomically(path, lambda partial: torch.save(payload, partial))


def write_text_atomically(text: str, path: Path) -> Path:
    return replace_atomically(path, lambda partial: partial.write_text(text))
