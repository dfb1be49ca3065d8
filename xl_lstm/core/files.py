"""Writing files so that they are whole or untouched, and stay the file they were.

A temporary file in the same folder, flushed and synced, then renamed over the target.
Replacing a file this way keeps what a user sees of it: the owner, group and mode are
copied onto the new file, and a symbolic link stays a link (the file it points to is
replaced, beside itself). A hard-linked file cannot be replaced without splitting the
link, and writing into it in place is not crash-safe, so ``check_replaceable`` refuses it.

Temporary files are named ``.NAME.xl-lstm.HOST.PID.RANDOM.tmp``: a write killed before its
rename leaves one behind, and ``clean_stale`` recognises it later (its process is gone,
or nobody has written it for an hour) and removes it.

The one write discipline: every write holds the target's lock (``locks.write_lock``) and
refuses a target open in Excel or LibreOffice; a writer that read the file first (a refresh,
a fit) passes what it saw (``seen``: identity, size, time and a SHA-256 of the bytes), and the
rename happens only if the file is still that one: never a silent last-writer-wins.
``same_file`` is the one test that an output is no input of the same run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .errors import LSTMError
from .locks import alive, host_name, refuse_open, write_lock

__all__ = [
    "Seen",
    "atomic_write",
    "check_replaceable",
    "check_unchanged",
    "clean_stale",
    "file_key",
    "refuse_input",
    "same_file",
    "seen",
    "write_record",
    "write_target",
]

TAG = "xl-lstm"
STALE_AFTER = 3600.0  # seconds without a write after which a temporary file of ours is abandoned
_OURS = re.compile(rf"\.{re.escape(TAG)}\.(?P<host>[A-Za-z0-9-]+)\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.tmp$")
_LEGACY = re.compile(r"\.[A-Za-z0-9_]{8}\.tmp$")  # mkstemp's names before the tag (xl_lstm ≤ 0.1.0)


def _prefix(path: Path) -> str:
    return f".{path.name}.{TAG}.{host_name()}.{os.getpid()}."


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
    if not hasattr(os, "geteuid"):  # Windows: files have ACLs, not an owner and group a rename could lose
        return
    if os.geteuid() != 0 and (st.st_uid != os.geteuid() or st.st_gid not in (os.getegid(), *os.getgroups())):
        raise LSTMError(
            f"{path}: is owned by uid {st.st_uid}, gid {st.st_gid}; the refreshed file could not keep that owner, "
            "so it is left alone (run as its owner, or use --output DIR)"
        )


@dataclass(frozen=True)
class Seen:
    """A file as a writer read it: (device, inode, size, mtime_ns) and a SHA-256 of its bytes; None: absent."""

    path: Path
    stat: tuple[int, int, int, int] | None
    digest: bytes = b""
    at: float = 0.0  # when it was seen (time.time()), for the message


def seen(path: str | Path) -> Seen:
    """What ``path`` (a symbolic link's target) holds now, to check before replacing it that it is unchanged."""
    target = write_target(Path(path))
    now = time.time()
    try:
        fh = open(target, "rb")  # noqa: SIM115  closed below
    except FileNotFoundError:
        return Seen(target, None, b"", now)
    except OSError as exc:
        raise LSTMError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    with fh:
        st = os.fstat(fh.fileno())
        digest = hashlib.file_digest(fh, "sha256").digest()
    return Seen(target, (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns), digest, now)


def check_unchanged(before: Seen, named: Path | None = None) -> None:
    """Refuse to replace a file that changed (or appeared, or went) since ``before`` was taken."""
    now = seen(before.path)
    if (now.stat, now.digest) == (before.stat, before.digest):
        return
    if before.stat is None:
        how = "a file of that name was made meanwhile"
    elif now.stat is None:
        how = "it was deleted or renamed meanwhile"
    elif now.stat[:2] != before.stat[:2]:
        how = "another program replaced it meanwhile"
    else:
        how = f"it was written meanwhile ({before.stat[2]:,} -> {now.stat[2]:,} bytes)"
    when = time.strftime("%H:%M:%S", time.localtime(before.at))
    raise LSTMError(
        f"{named or before.path}: changed since it was read at {when} ({how}); nothing written, "
        "so that change is kept: run again to work on the new file"
    )


def file_key(path: str | Path) -> str:
    """A path resolved (links, ``..``) and without case: equal keys may be one file (on Windows and
    macOS disks names differ only in case are one file), so a writer treats them as one."""
    return os.path.normcase(Path(path).resolve()).casefold()


def same_file(a: str | Path, b: str | Path) -> bool:
    """Do two paths name one file? ``samefile`` where both exist (links, hard links, ``..``, a
    case-insensitive disk's other spelling); never when only one exists (on any disk, the other
    spelling of an existing file exists too); ``file_key`` for two files still to be made."""
    a, b = Path(a), Path(b)
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    if a.exists() or b.exists():
        return False
    return file_key(a) == file_key(b)


def refuse_input(output: str | Path, inputs: Iterable[str | Path], what: str = "output") -> None:
    """Refuse, before any work, an output that is one of the run's inputs: writing it would destroy what is read."""
    for source in inputs:
        if same_file(output, source):
            same = "" if str(output) == str(source) else f" ({source})"
            raise LSTMError(f"{output}: the {what} is an input of this run{same}; write it to another file")


def _stale(tmp: Path, now: float) -> bool:
    """Is this temporary file of ours abandoned: its process gone (same host), or untouched for an hour?"""
    try:
        age = now - tmp.stat().st_mtime
    except FileNotFoundError:
        return False
    if age > STALE_AFTER:
        return True
    m = _OURS.search(tmp.name)
    if m is None or m["host"] != host_name():
        return False
    return not alive(int(m["pid"]))


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


def _keep_owner_and_mode(fd: int, old: os.stat_result | None) -> None:
    """Give the new file the old one's owner, group and mode (POSIX; Windows has neither call
    before Python 3.13, and a new file there takes its folder's ACL, as the old one did)."""
    if not hasattr(os, "fchmod") or not hasattr(os, "geteuid"):
        return
    if old is not None and (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
        os.fchown(fd, old.st_uid, old.st_gid)
    os.fchmod(fd, old.st_mode & 0o7777 if old is not None else _new_file_mode())  # after chown: it clears setuid


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


def atomic_write(
    path: Path, write: Callable[[BinaryIO], object], *, expect: Seen | None = None, what: str = "write"
) -> None:
    """Call ``write(fh)`` on a temporary file beside ``path``'s target, then rename it over that target.

    The target's lock is held throughout (``what`` names the command in another writer's
    refusal), and a target open in Excel or LibreOffice is refused; with ``expect`` (what
    the caller read), the rename happens only if the target is still that file.
    If anything fails (or the process is killed) before the rename, the target is as it
    was and the temporary file is removed (or, after a kill, left for ``clean_stale``).
    An existing file's owner, group and mode are kept; a symbolic link stays a link and its
    target is replaced. An OSError (no such folder, no permission, a folder in the way,
    disk full) becomes one LSTMError line naming the file.
    """
    target = write_target(path)
    if not target.parent.is_dir():
        raise LSTMError(f"{path}: folder {target.parent} does not exist")
    refuse_open(target, path)
    with write_lock(target, what):
        _write_and_rename(path, target, write, expect)


def _write_and_rename(path: Path, target: Path, write: Callable[[BinaryIO], object], expect: Seen | None) -> None:
    try:
        old = target.stat()
    except FileNotFoundError:
        old = None
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=_prefix(target), suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "wb") as fh:
            _keep_owner_and_mode(fh.fileno(), old)
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        if expect is not None:
            check_unchanged(expect, path)  # under the lock: no other xl-lstm can write between this and the rename
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


def write_record(path: Path, record: Mapping[str, object]) -> None:
    """A JSON object written atomically (``atomic_write``) with a key a line, so that a stored
    model file's diff shows which fields changed."""
    text = "{\n" + ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in record.items()) + "\n}\n"
    atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))
