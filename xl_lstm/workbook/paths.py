"""Where a refresh may write: every check on a workbook's path that needs no reading.

The file exists and is a workbook by name; its target (itself, a symbolic link's target,
or ``--output DIR``/name) is not open in Excel or LibreOffice, not read-only, not hard-linked and not
another owner's, and its folder takes the new file. Each refusal is one line naming the file.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..core.errors import LSTMError
from ..core.files import check_replaceable, write_target
from ..core.limits import WORKBOOK_SUFFIXES
from ..core.locks import refuse_open

__all__ = ["write_path"]


def _refuse_missing(path: Path) -> None:
    """A path that is not a readable regular file: one line saying what it is."""
    if path.is_symlink() and not path.exists():
        raise LSTMError(f"{path}: is a symbolic link to {os.readlink(path)}, which does not exist")
    if not path.exists():
        hint = (
            " (names are taken literally: use --glob PATTERN to expand a pattern)"
            if any(ch in path.name for ch in "*?[")
            else ""
        )
        raise LSTMError(f"{path}: does not exist{hint}")
    if path.is_dir():
        raise LSTMError(f"{path}: is a folder, not a workbook")
    if not path.is_file():
        raise LSTMError(f"{path}: is not a regular file (a pipe or a device?)")
    if path.suffix.lower() not in WORKBOOK_SUFFIXES:
        raise LSTMError(f"{path}: not an .xlsx or .xlsm workbook")


def _refuse_unwritable(path: Path, named: Path | None = None) -> None:
    """An existing file we would replace: open in Excel, read-only, hard-linked or not ours to keep."""
    for p in dict.fromkeys((named or path, path)):  # the name given and a symbolic link's target
        refuse_open(p, named)
    if not os.access(path, os.W_OK) or not path.stat().st_mode & 0o222:  # root passes os.access: check the bits too
        raise LSTMError(f"{named or path}: is read-only; make it writable or use --output DIR")
    check_replaceable(path)


def _refuse_locked_folder(target: Path, named: Path) -> None:
    """The new file is renamed into the target's folder: that folder must be writable."""
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise LSTMError(f"{named}: its folder {target.parent} is not writable, so the file cannot be replaced")


def write_path(path: str | Path, output: str | Path | None = None) -> Path:
    """Where refreshing ``path`` writes, after every check that needs no reading: the file exists,
    is a workbook by name, and its target (itself, a symlink's target, or ``output``/name) may be replaced."""
    path = Path(path)
    _refuse_missing(path)
    if output is None:
        target = write_target(path)
        _refuse_unwritable(target, path)
        _refuse_locked_folder(target, path)
        return target
    if not Path(output).is_dir():
        raise LSTMError(f"{output}: no such folder for --output")
    target = Path(output) / path.name
    _refuse_locked_folder(write_target(target), target)
    if target.exists() and os.path.samefile(target, path):
        raise LSTMError(
            f"{path}: --output {output} is the file's own folder, so the copy would replace it; "
            "leave out --output to refresh in place"
        )
    if target.exists():
        _refuse_unwritable(write_target(target), target)
    return target
