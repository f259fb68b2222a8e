"""Files that several processes share or that a kill may interrupt: written whole or not at all.

A file is written under a temporary name beside its target and renamed over it; the rename is
atomic on POSIX file systems, so a reader (another rank, another run, a resumed job) sees the
old file or the new one, never half of one. A write that fails (a full disk) leaves no
temporary file behind and raises an `OSError` that names the target.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

#: errno values of a write the file system refuses: full, over quota, read-only, file too large.
REFUSED = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG})
#: Refusals that are only a write's when they concern a file of the run (a read can be denied).
DENIED = frozenset({errno.EACCES, errno.EPERM})


def replace_atomically(path: Path, write: Callable[[Path], object]) -> Path:
    """Call `write(temporary_path)`, then rename the result over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        write(partial)
        partial.replace(path)
    except OSError as error:
        if error.filename is None:  # a write to an open file names no file: name the target
            raise OSError(error.errno, error.strerror, str(path)) from error
        raise
    finally:
        partial.unlink(missing_ok=True)
    return path


def torch_save(payload: Any, path: Path) -> None:
    """`torch.save` through a Python file: a full disk then raises OSError(ENOSPC), which
    torch's own file writer would turn into a RuntimeError."""
    with open(path, "wb") as handle:
        torch.save(payload, handle)


def save_atomically(payload: Any, path: Path) -> Path:
    """`torch.save(payload, path)`, so that an interrupted write leaves `path` as it was."""
    return replace_atomically(path, lambda partial: torch_save(payload, partial))


def write_text_atomically(text: str, path: Path) -> Path:
    return replace_atomically(path, lambda partial: partial.write_text(text))


def refused_write(error: BaseException | None, folder: Path) -> OSError | None:
    """The OSError in `error` or its causes by which a file system refused a write (full,
    over quota, read-only; or permission denied on a file inside `folder`), else None."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError):
            target = error.filename2 or error.filename  # a copy names its target second
            if error.errno in REFUSED or (error.errno in DENIED and inside(target, folder)):
                return error
        error = error.__cause__ or error.__context__
    return None


def inside(filename: object, folder: Path) -> bool:
    """Whether `filename` (an OSError's, possibly None) lies in `folder`."""
    if not isinstance(filename, str | os.PathLike):
        return False
    return Path(folder).resolve() in [Path(filename).resolve(), *Path(filename).resolve().parents]


def describe(error: OSError) -> str:
    """'No space left on device' rather than '[Errno 28] No space left on device: ...'."""
    return error.strerror or type(error).__name__
