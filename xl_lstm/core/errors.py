"""The one exception every public entry point raises for bad input.

A message is a single line that names the argument, what was expected and what
came, e.g. ``W must be 4H×(H+D) = 16×5 (H=4, D=1), got 16×4``. The UDF layer shows
it in the cell as it is; the CLI prints it on stderr.
"""

from __future__ import annotations

__all__ = ["LSTMError"]


class LSTMError(ValueError):
    """Bad input to xl_lstm: the message is one line saying what and where."""

    def __init__(self, message: str) -> None:
        # One line, always: a newline would break a worksheet cell or a log line.
        super().__init__(" ".join(str(message).split()))
