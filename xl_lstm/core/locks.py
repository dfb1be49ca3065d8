"""Who else is writing a file: our own lock file, and the owner files of Excel and LibreOffice.

Every xl-lstm command that replaces a file holds ``write_lock`` on it from before it reads the
file until the rename: a second writer (a ``fit`` and a ``refresh`` of one workbook, two
``template --force`` runs) refuses in one line instead of renaming its older copy over the
first one's work.

The lock is a file beside the target, ``.NAME.xl-lstm.lock``, made with ``O_CREAT | O_EXCL``
and holding the host, pid, command and start time. That is the one primitive that is atomic
on every file system our users have (Linux, macOS and Windows disks, NFS v3+, SMB shares) and
that a process on another machine sees too (a Dask worker, a colleague on a shared drive);
``fcntl`` locks are POSIX only, ``msvcrt.locking`` is Windows only, and neither is reliable on
network shares. Its cost is that a killed process leaves the file behind: one on this host
whose pid is gone is removed (safely, see ``_break``); one from another host is reported with
the file to delete, since this host cannot tell whether that process lives.

Excel marks a workbook it has open with an owner file ``~$NAME`` beside it, LibreOffice with
``.~lock.NAME#``; a file open there is refused (``refuse_open``), since the user's next save
would overwrite what we wrote, or ours theirs.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import LSTMError

__all__ = ["alive", "host_name", "lock_path", "refuse_open", "write_lock"]

_held: dict[str, tuple[int, int]] = {}  # lock path -> (pid, thread id) of its holder, who may take it again
_guard = threading.Lock()


def host_name() -> str:
    """This machine's name as it goes into file names (letters, digits and dashes)."""
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40] or "host"


def alive(pid: int) -> bool:
    """Is process ``pid`` of this host running? (On Windows ``os.kill(pid, 0)`` would end it: not used there.)"""
    if pid <= 0:
        return False
    if sys.platform == "win32":
        import ctypes

        kernel = ctypes.windll.kernel32
        handle = kernel.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return kernel.GetLastError() == 5  # ERROR_ACCESS_DENIED: it exists, someone else's
        try:
            code = ctypes.c_ulong()
            return bool(kernel.GetExitCodeProcess(handle, ctypes.byref(code))) and code.value == 259  # STILL_ACTIVE
        finally:
            kernel.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):  # alive and someone else's; or no such pid at all
        return True
    return True


def owner_files(path: Path) -> list[Path]:
    """The files Excel (``~$NAME``) and LibreOffice (``.~lock.NAME#``) keep beside a workbook they have open."""
    return [path.with_name("~$" + path.name), path.with_name(f".~lock.{path.name}#")]


def refuse_open(path: Path, named: Path | None = None) -> None:
    """Refuse a file that Excel or LibreOffice has open (its owner file is beside it)."""
    for owner in owner_files(path):
        if owner.exists():
            app = "Excel" if owner.name.startswith("~$") else "LibreOffice"
            raise LSTMError(
                f"{named or path}: is open in {app} (lock file {owner}); close it first "
                f"(or delete {owner.name} if {app} is not running)"
            )


def lock_path(path: Path) -> Path:
    """The lock file of ``path``: beside it, hidden, named for it."""
    return path.with_name(f".{path.name}.xl-lstm.lock")


def _read(lock: Path) -> dict[str, str] | None:
    """The holder a lock file names (host, pid, nonce, what, since), or None if it is gone."""
    try:
        text = lock.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except OSError:
        text = ""
    fields = dict(part.split("=", 1) for part in text.split() if "=" in part)
    return fields


def _is_stale(holder: dict[str, str]) -> bool:
    """A lock of this host whose process is gone."""
    pid = holder.get("pid", "")
    return holder.get("host") == host_name() and pid.isdigit() and not alive(int(pid))


def _break(lock: Path, holder: dict[str, str]) -> None:
    """Remove a stale lock, and only that one: move it aside, check it is the one judged stale, then delete it.

    Two writers may find the same stale lock; the first moves it away and makes its own; the
    second's move then takes the new, live lock, sees another nonce and puts it back.
    """
    aside = lock.with_name(f"{lock.name}.{host_name()}.{os.getpid()}.{secrets.token_hex(4)}.stale")
    try:
        os.rename(lock, aside)
    except FileNotFoundError:
        return
    if (_read(aside) or {}).get("nonce") == holder.get("nonce"):
        aside.unlink(missing_ok=True)
        return
    try:  # not the stale one: give it back (link fails rather than replace a newer lock)
        os.link(aside, lock)
    except OSError:
        pass
    aside.unlink(missing_ok=True)


def _refusal(path: Path, lock: Path, holder: dict[str, str]) -> LSTMError:
    what = holder.get("what", "command")
    who = f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}, since {holder.get('since', '?')}"
    if holder.get("host") == host_name():
        hint = f"lock file {lock.name}"
    else:  # this host cannot tell whether that process lives
        hint = f"lock file {lock.name}: delete it if that process has ended"
    return LSTMError(
        f"{path}: another xl-lstm {what} is writing it ({who}); left alone, try again when it ends ({hint})"
    )


def _acquire(path: Path, what: str) -> Path:
    lock = lock_path(path)
    nonce = secrets.token_hex(8)
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime())
    text = f"host={host_name()} pid={os.getpid()} nonce={nonce} what={what.replace(' ', '-')} since={since}\n"
    for _ in range(3):  # a stale lock removed gives one more try; a live one refuses
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            holder = _read(lock)
            if holder is None:
                continue  # released meanwhile
            if not _is_stale(holder):
                raise _refusal(path, lock, holder) from None
            _break(lock, holder)
            continue
        except OSError as exc:
            raise LSTMError(f"{path}: cannot make its lock file {lock.name} ({exc.strerror or exc})") from None
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        return lock
    raise _refusal(path, lock, _read(lock) or {})


@contextmanager
def write_lock(path: Path, what: str = "write") -> Iterator[None]:
    """Hold ``path``'s lock file for the block: refuse in one line if another writer holds it.

    Re-entrant for the thread that holds it (``fit`` holds it over training and its refresh),
    so a command can take it early and the writes it calls take it again.
    """
    key = str(lock_path(Path(os.path.abspath(path))))
    me = (os.getpid(), threading.get_ident())
    with _guard:
        nested = _held.get(key) == me
    if nested:  # the outermost block of this thread holds the file and releases it
        yield
        return
    lock = _acquire(Path(os.path.abspath(path)), what)
    with _guard:
        _held[key] = me
    try:
        yield
    finally:
        with _guard:
            _held.pop(key, None)
        lock.unlink(missing_ok=True)
