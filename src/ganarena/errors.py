"""The one exception type that means "the user can fix this": no traceback, one line."""

from __future__ import annotations

import re


class GanArenaError(Exception):
    """A bad input or setting the user can fix; `train.py` prints the message as one line.

    The message must say what is wrong and name the fix, e.g.
    ``"data.path '/x' does not exist: set data.path=/path/to/images"``.
    """


def load_refusal(error: BaseException, limit: int = 120) -> str:
    """Why `torch.load(..., weights_only=True)` (or a restricted unpickler) refused a file, in
    a few words: the global it would have run, rather than torch's paragraph of advice."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))
    named = re.search(r"Unsupported global: GLOBAL ([\w.]+)", text)
    if named is not None:
        return f"it names {named.group(1)}, which is not a tensor or a plain container"
    return " ".join(text.split())[:limit] or type(error).__name__
