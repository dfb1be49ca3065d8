"""What the command prints: one line per thing said, whatever a file name or an id holds.

A file may be named ``a\\nb.xlsx`` or hold a carriage return, an escape sequence or a bidi
override: printed as they are, they break the progress line and the summary table, or
rewrite what the terminal shows. Every line the CLI prints goes through ``printable``,
which escapes such characters as Python's repr does (``a\\nb.xlsx``), and leaves every
other line exactly as it was.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from ..core.errors import LSTMError


def printable(text: str) -> str:
    """``text`` with every character that is not printable (controls, line and format
    characters) escaped as repr escapes it: one line, shown as it is, never acted on."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def say(line: str, file: TextIO | None = None) -> None:
    """Print one line (escaped by ``printable``) on ``file`` (default stdout)."""
    print(printable(line), file=file or sys.stdout, flush=True)


def from_file(exc: LSTMError, where: str, path: str) -> LSTMError:
    """``exc``, its line starting with ``where`` (a file, and the column) unless it starts with
    ``path`` (or its name) already: an error of the work on a file's data (a constant series,
    too few values) says which file, as every error of reading it does."""
    line = str(exc)
    return exc if line.startswith((path, Path(path).name)) else LSTMError(f"{where}: {line}")


def say_lines(text: str, file: TextIO | None = None) -> None:
    """Print a block (a table) line by line, each escaped by ``printable``."""
    for line in text.splitlines():
        say(line, file)
