"""The write discipline's parts: the lock file, the liveness of a pid, one file under two names."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from xl_lstm.core import locks
from xl_lstm.core.errors import LSTMError
from xl_lstm.core.files import atomic_write, refuse_input, same_file


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_alive_tells_a_running_process_from_an_ended_one() -> None:
    assert locks.alive(os.getpid()) and not locks.alive(_dead_pid()) and not locks.alive(0)


def test_the_lock_is_reentrant_for_its_thread_and_refuses_another(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    refusals: list[str] = []

    def other_thread() -> None:
        try:
            with locks.write_lock(path, "refresh"):
                pass
        except LSTMError as exc:
            refusals.append(str(exc))

    with locks.write_lock(path, "fit"):
        with locks.write_lock(path, "refresh"):  # fit's own refresh takes it again
            atomic_write(path, lambda fh: fh.write(b"new"))  # and so does its write
        assert locks.lock_path(path).exists()
        t = threading.Thread(target=other_thread)
        t.start()
        t.join()
    assert not locks.lock_path(path).exists() and path.read_bytes() == b"new"
    (line,) = refusals
    assert line.startswith(f"{path}: another xl-lstm fit is writing it (pid {os.getpid()} on {locks.host_name()}")


def test_breaking_a_stale_lock_never_removes_a_newer_live_one(tmp_path: Path) -> None:
    """Two writers found one stale lock; the first replaced it with its own; the second's break must give it back."""
    lock = locks.lock_path(tmp_path / "book.xlsx")
    stale = {"host": locks.host_name(), "pid": str(_dead_pid()), "nonce": "old"}
    lock.write_text(f"host={locks.host_name()} pid={os.getpid()} nonce=new what=refresh since=now\n")
    locks._break(lock, stale)
    assert lock.read_text().split()[2] == "nonce=new"
    assert [p.name for p in tmp_path.iterdir()] == [lock.name]  # nothing left aside
    lock.write_text(f"host={stale['host']} pid={stale['pid']} nonce=old\n")
    locks._break(lock, stale)
    assert list(tmp_path.iterdir()) == []


def test_every_atomic_write_refuses_a_file_open_in_excel(tmp_path: Path) -> None:
    path = tmp_path / "forecasts.xlsx"
    path.write_bytes(b"theirs")
    (tmp_path / "~$forecasts.xlsx").write_bytes(b"")
    with pytest.raises(LSTMError, match=r"forecasts.xlsx: is open in Excel \(lock file .*~\$forecasts.xlsx\)"):
        atomic_write(path, lambda fh: fh.write(b"ours"))
    assert path.read_bytes() == b"theirs"


def test_same_file_sees_links_and_spellings(tmp_path: Path) -> None:
    a = tmp_path / "a.csv"
    a.write_text("x\n1\n")
    (tmp_path / "link.csv").symlink_to(a)
    os.link(a, tmp_path / "hard.csv")
    assert same_file(a, tmp_path / "link.csv") and same_file(a, tmp_path / "hard.csv")
    (tmp_path / "sub").mkdir()
    assert same_file(a, tmp_path / "sub" / ".." / "a.csv")
    assert not same_file(a, tmp_path / "b.csv")  # one exists, the other not: never one file
    assert same_file(tmp_path / "new.xlsx", tmp_path / "NEW.xlsx")  # two still to be made: one on Windows and macOS
    with pytest.raises(LSTMError, match=r"link.csv: the template is an input of this run \(.*a.csv\)"):
        refuse_input(tmp_path / "link.csv", [a], "template")


def test_writes_work_without_the_posix_owner_calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows' os has no geteuid, fchown or fchmod (before 3.13): replacing a file must not need them."""
    from xl_lstm.core import files

    path = tmp_path / "forecasts.csv"
    path.write_bytes(b"old")
    for name in ("geteuid", "getegid", "fchown", "fchmod"):
        monkeypatch.delattr(files.os, name)
    files.check_replaceable(path)
    atomic_write(path, lambda fh: fh.write(b"new"), expect=files.seen(path))
    assert path.read_bytes() == b"new" and sorted(p.name for p in tmp_path.iterdir()) == ["forecasts.csv"]
