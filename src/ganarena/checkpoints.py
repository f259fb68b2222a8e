"""Checkpoints as input: which one to resume from, and whether it can serve this run.

A checkpoint file is read with `weights_only=True` (tensors and plain containers only, so a
checkpoint cannot run code); anything that is not a whole gan-arena checkpoint, or one that
was written for other networks or data, stops the run with one line naming the file and what
is wrong, before training. A write the file system refuses during training (a full disk)
stops the run with one line naming the folder and the last complete checkpoint
(`stopped_writing`).
"""

from __future__ import annotations

import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from ganarena.errors import GanArenaError, load_refusal
from ganarena.storage import describe, refused_write

#: The settings a checkpoint's weights are tied to: other values cannot load into them.
BINDING_SETTINGS = ("model", "conditioning.method", "loss._target_")
CHECKPOINT_EXAMPLE = "logs/train/runs/<run>/checkpoints/last.ckpt"


def is_complete(path: Path) -> bool:
    """Whether a file is a whole `torch.save` archive (a truncated one has no zip directory)."""
    return path.is_file() and zipfile.is_zipfile(path)


def newest_complete_checkpoint(folder: Path) -> Path | None:
    """`last.ckpt` when it is whole (it is written at every save point, so no other file is
    newer in training steps), else the most recently written complete checkpoint, or None."""
    last = folder / "last.ckpt"
    if is_complete(last):
        return last
    candidates = sorted(folder.glob("*.ckpt"), key=lambda p: p.stat().st_mtime, reverse=True)
    return next((path for path in candidates if is_complete(path)), None)


class WritesRefused(GanArenaError):
    """The file system refused one of the run's writes (full disk, quota, read-only or
    unwritable folder): the run stopped, its last complete checkpoint whole."""


def remove_incomplete(folder: Path) -> list[Path]:
    """Delete the checkpoint files in `folder` that a failed write left unfinished (no torch
    archive can be read from them); the complete ones stay."""
    if not folder.is_dir():
        return []
    partial = [p for p in folder.glob("*.ckpt") if p.is_file() and not is_complete(p)]
    partial += [p for p in folder.glob(".*.partial") if p.is_file()]
    for path in partial:
        path.unlink(missing_ok=True)
    return partial


def stopped_writing(
    error: BaseException, output_dir: Path, checkpoint_dir: Path, resume: str
) -> WritesRefused | None:
    """When `error` is a write the file system refused: the one line to stop with, naming the
    folder and the last complete checkpoint (unfinished checkpoint files removed); else None.
    `resume` is the command that continues the run."""
    refused = refused_write(error, output_dir)
    if refused is None:
        return None
    remove_incomplete(checkpoint_dir)
    # a copy that fails names its source first and its target second (shutil's do)
    target = refused.filename2 or refused.filename
    folder = Path(target).parent if target else output_dir
    last = newest_complete_checkpoint(checkpoint_dir)
    if last is None:
        then = "no checkpoint was completed: free space there and start again"
    else:
        then = f"the last complete checkpoint is {last}: free space there, then `{resume}`"
    reason = describe(refused)
    return WritesRefused(f"the run stopped: cannot write in {folder} ({reason}); {then}")


def read_checkpoint(path: Path) -> dict[str, Any]:
    """The checkpoint's contents, or a one-line error naming the file and the fault."""
    if not path.is_file():
        raise GanArenaError(
            f"ckpt_path '{path}' is not a file: pass a checkpoint such as {CHECKPOINT_EXAMPLE}"
        )
    if not is_complete(path):
        raise GanArenaError(
            f"checkpoint '{path}' is truncated or corrupt (not a whole torch archive): pass "
            f"another one, e.g. the run's epoch_*.ckpt, or start afresh"
        )
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as error:
        reason = load_refusal(error, limit=160)
        raise GanArenaError(f"checkpoint '{path}' cannot be read ({reason})") from None
    if not isinstance(checkpoint, Mapping) or "config" not in checkpoint.get(
        "hyper_parameters", {}
    ):
        raise GanArenaError(
            f"'{path}' is not a gan-arena checkpoint (no run configuration in it): pass one "
            f"that src/train.py wrote, e.g. {CHECKPOINT_EXAMPLE}"
        )
    return dict(checkpoint)


def flatten(settings: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in settings.items():
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def check_fits(path: Path, checkpoint: Mapping[str, Any], description: Mapping[str, Any]) -> None:
    """Stop when the checkpoint was written for other networks, conditioning, loss or data."""
    written = checkpoint["hyper_parameters"]
    before = flatten(written.get("config", {}))
    now = flatten(description.get("config", {}))
    differing = [
        key
        for key in sorted(set(before) | set(now))
        if key.startswith(BINDING_SETTINGS) and before.get(key) != now.get(key)
    ]
    old_shape, new_shape = written.get("data_shape"), description.get("data_shape")
    if old_shape is not None and list(old_shape) != list(new_shape or []):
        differing.insert(0, "data shape")
        before["data shape"], now["data shape"] = tuple(old_shape), tuple(new_shape or [])
    if differing:
        shown = "; ".join(f"{key} {before.get(key)!r} -> {now.get(key)!r}" for key in differing[:3])
        more = f" (and {len(differing) - 3} more)" if len(differing) > 3 else ""
        raise GanArenaError(
            f"checkpoint '{path}' was written for other settings: {shown}{more}; resume it "
            "with the settings it was trained with, or start afresh without ckpt_path"
        )
