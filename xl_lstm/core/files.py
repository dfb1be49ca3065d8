"""Writing files so that they are whole or untouched, and stay the file they were.

A temporary file in the same folder, flushed and synced, then renamed over the target.
Replacing a file this way keeps what a user sees of it: the owner, group and mode are
copied onto the new file, and a symbolic link stays a link (the file it points to is
replaced, beside itself). A hard-linked file cannot be replaced without splitting the
link, and writing into it in place is not crash-safe, so ``check_replaceable`` refuses it.

Temporary files are named ``.NAME.xl-lstm.HOST.PID.RANDOM.tmp``: a write killed before its
rename leaves one behind, and ``clean_stale`` recognises it later (its process is gone,
or nobody has written it for an hour) and removes it.
"""

from __future__ import annotations

import os
import re
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from .errors import LSTMError

__all__ = ["atomic_write", "check_replaceable", "clean_stale", "write_target"]

TAG = "xl-lstm"
STALE_AFTER = 3600.0  # seconds without a write after which a temporary file of ours is abandoned
_OURS = re.compile(rf"\.{re.escape(TAG)}\.(?P<host>[A-Za-z0-9-]+)\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.tmp$")
_LEGACY = re.compile(r"\.[A-Za-z0-9_]{8}\.tmp$")  # mkstemp's names before the tag (xl_lstm ≤ 0.1.0)


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40] or "host"


def _prefix(path: Path) -> str:
    return f".{path.name}.{TAG}.{_host()}.{os.getpid()}."


def write_target(path: Path) -> Path:
    """The file a write to ``path`` replaces: a symbolic link's final target, so the link stays a link."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def check_replaceable(path: Path) -> None:
    """Refuse, before any work, an existing file that replacing would change beyond its contents.

    A hard link (the rename would split it; writing into the shared inode in place could
    be cut half-way), or a file whose owner or group this process cannot give the new file.
    """
    st = path.stat()
    if st.st_nlink > 1:
        raise LSTMError(
            f"{path}: has {st.st_nlink} hard links; replacing it would split them and writing it in place is not "
            "crash-safe, so it is left alone (refresh a copy with --output DIR)"
        )
    if os.geteuid() != 0 and (st.st_uid != os.geteuid() or st.st_gid not in (os.getegid(), *os.getgroups())):
        raise LSTMError(
            f"{path}: is owned by uid {st.st_uid}, gid {st.st_gid}; the refreshed file could not keep that owner, "
            "so it is left alone (run as its owner, or use --output DIR)"
        )


def _stale(tmp: Path, now: float) -> bool:
    """Is this temporary file of ours abandoned: its process gone (same host), or untouched for an hour?"""
    try:
        age = now - tmp.stat().st_mtime
    except FileNotFoundError:
        return False
    if age > STALE_AFTER:
        return True
    m = _OURS.search(tmp.name)
    if m is None or m["host"] != _host():
        return False
    try:
        os.kill(int(m["pid"]), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):  # alive, someone else's; or no such pid at all
        return False
    return False


def clean_stale(path: Path) -> tuple[list[Path], list[Path]]:
    """Remove the abandoned temporary files of earlier writes to ``path``.

    Returns (removed, left): ``left`` holds ours that may still be in use (a write in
    progress) or could not be removed, for the caller to report.
    """
    removed: list[Path] = []
    left: list[Path] = []
    now = time.time()
    try:
        names = [n for n in os.listdir(path.parent) if n.startswith(f".{path.name}.") and n.endswith(".tmp")]
    except OSError:
        return removed, left
    for n in sorted(names):
        rest = n[len(path.name) + 1 :]
        if not (_OURS.fullmatch(rest) or _LEGACY.fullmatch(rest)):
            continue  # not one of ours
        tmp = path.parent / n
        if not _stale(tmp, now):
            left.append(tmp)
            continue
        try:
            tmp.unlink()
            removed.append(tmp)
        except FileNotFoundError:
            pass
        except OSError:
            left.append(tmp)
    return removed, left


def _new_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every file system can sync a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Call ``write(fh)`` on a temporary file beside ``path``'s target, then rename it over that target.

    If anything fails (or the process is killed) before the rename, the target is as it
    was and the temporary file is removed (or, after a kill, left for ``clean_stale``).
    An existing file's owner, group and mode are kept; a symbolic link stays a link and its
    target is replaced. An OSError (no such folder, no permission, a folder in the way,
    disk full) becomes one LSTMError line naming the file.
    """
    target = write_target(path)
    if not target.parent.is_dir():
        raise LSTMError(f"{path}: folder {target.parent} does not exist")
    try:
        old = target.stat()
    except FileNotFoundError:
        old = None
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=_prefix(target), suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "wb") as fh:
            if old is not None and (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
                os.fchown(fh.fileno(), old.st_uid, old.st_gid)
            os.fchmod(
                fh.fileno(), old.st_mode & 0o7777 if old is not None else _new_file_mode()
            )  # after chown: it clears setuid
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        tmp = None
        _sync_folder(target.parent)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise LSTMError(f"{path}: cannot write it ({exc.strerror or exc})") from None
    except BaseException:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise
