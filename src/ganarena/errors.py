"""The one exception type that means "the user can fix this": no traceback, one line."""

from __future__ import annotations


class GanArenaError(Exception):
    """A bad input or setting the user can fix; `train.py` prints the message as one line.

    The message must say what is wrong and name the fix, e.g.
    ``"data.path '/x' does not exist: set data.path=/path/to/images"``.
    """
