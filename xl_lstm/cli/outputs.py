"""An output file's place, checked before any work: its folder exists and may be written in.

Found only when the result is written, a missing or read-only folder throws away the whole
fit (minutes of training); every command that writes a file checks it first.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..core.errors import LSTMError


def check_output_place(path: str | Path) -> Path:
    """``path``'s folder exists and is writable, and ``path`` is no folder: else one line."""
    path = Path(path)
    folder = path.parent
    if path.is_dir():
        raise LSTMError(f"{path}: is a folder; give a file name to write")
    if not folder.is_dir():
        raise LSTMError(f"{path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise LSTMError(f"{path}: cannot write in folder {folder} (no permission)")
    return path
