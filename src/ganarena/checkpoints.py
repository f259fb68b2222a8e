"""Checkpoints as input: which one to resume from, and whether it can serve this run.

A checkpoint file is read with `weights_only=True` (tensors and plain containers only, so a
checkpoint cannot run code); anything that is not a whole gan-arena checkpoint, or one that
was written for other networks or data, stops the run with one line naming the file and what
is wrong, before training.
"""

from __future__ import annotations

import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from ganarena.errors import GanArenaError

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
        reason = " ".join(str(error).split())[:160]
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
