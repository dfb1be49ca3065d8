"""xl-lstm refresh against hostile and careless paths, through the real CLI in a subprocess.

Each case builds the files, runs ``python -m xl_lstm refresh`` with a timeout and memory and
CPU limits (``resource``), and asserts the right file changed (or none did) and that every
refusal is one line naming the file. The kill-during-write test stays in test_refresh.py.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import TEMPLATE
from tests.limited import xl_lstm
from xl_lstm.core import files as _io
from xl_lstm.core.errors import LSTMError
from xl_lstm.core.locks import host_name

ORIGINAL = TEMPLATE.read_bytes()


def cli(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return xl_lstm("refresh", *argv, cwd=cwd)


def errors(proc: subprocess.CompletedProcess[str]) -> list[str]:
    assert "Traceback" not in proc.stderr, proc.stderr
    return [line for line in proc.stderr.splitlines() if line.startswith("xl-lstm:") and "note:" not in line]


def book(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(ORIGINAL)
    return path


def refreshed(path: Path) -> bool:
    return path.read_bytes() != ORIGINAL


# ---- paths are paths --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, decoys", [("a[1].xlsx", ["a1.xlsx"]), ("b*.xlsx", ["bb.xlsx", "b1.xlsx"]), ("c?.xlsx", ["cc.xlsx"])]
)
def test_a_name_that_looks_like_a_glob_is_that_file(tmp_path: Path, name: str, decoys: list[str]) -> None:
    target = book(tmp_path / name)
    others = [book(tmp_path / d) for d in decoys]
    proc = cli(name, "--values", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert refreshed(target) and not any(refreshed(o) for o in others)
    assert proc.stdout.splitlines()[-1] == "1 of 1 refreshed"


def test_glob_option_expands_a_pattern(tmp_path: Path) -> None:
    a, b, sub = book(tmp_path / "a.xlsx"), book(tmp_path / "b.xlsx"), book(tmp_path / "sub" / "c.xlsx")
    proc = cli("--glob", str(tmp_path / "*.xlsx"), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert refreshed(a) and refreshed(b) and not refreshed(sub)
    deep = cli("--glob", str(tmp_path / "**" / "*.xlsx"), "--quiet")
    assert deep.returncode == 0 and refreshed(sub), deep.stderr


def test_a_folder_expands_to_its_own_workbooks_only(tmp_path: Path) -> None:
    top, deep = book(tmp_path / "m.xlsx"), book(tmp_path / "sub" / "n.xlsx")
    (tmp_path / "notes.txt").write_text("not a workbook")
    proc = cli(str(tmp_path), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert refreshed(top) and not refreshed(deep)


@pytest.mark.parametrize(
    "name, message",
    [("gone.xlsx", "does not exist"), ("*.xlsx", "does not exist (names are taken literally: use --glob")],
)
def test_a_missing_file_says_it_does_not_exist(tmp_path: Path, name: str, message: str) -> None:
    other = book(tmp_path / "other.xlsx")
    proc = cli(name, "other.xlsx", cwd=tmp_path)
    assert proc.returncode == 1
    (line,) = errors(proc)
    assert line == f"xl-lstm: {name}: {message}" or line.startswith(f"xl-lstm: {name}: {message}")
    assert "read-only" not in proc.stderr and refreshed(other)  # the others go on


def test_a_pipe_named_like_a_workbook_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.xlsx"
    os.mkfifo(fifo)
    proc = cli(str(fifo))
    assert proc.returncode == 1 and errors(proc) == [f"xl-lstm: {fifo}: is not a regular file (a pipe or a device?)"]


# ---- links and ownership ----------------------------------------------------------------------
def test_a_symlink_refreshes_its_target_and_stays_a_link(tmp_path: Path) -> None:
    target = book(tmp_path / "data" / "real.xlsx")
    link = tmp_path / "links" / "model.xlsx"
    link.parent.mkdir()
    link.symlink_to(target)
    proc = cli(str(link), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert refreshed(target)
    assert sorted(p.name for p in link.parent.iterdir()) == ["model.xlsx"]  # nothing written beside the link
    assert sorted(p.name for p in target.parent.iterdir()) == ["real.xlsx"]  # no temporary file left


def test_a_dangling_symlink_is_refused_in_one_line(tmp_path: Path) -> None:
    link = tmp_path / "model.xlsx"
    link.symlink_to(tmp_path / "nowhere.xlsx")
    proc = cli(str(link))
    assert proc.returncode == 1
    assert errors(proc) == [f"xl-lstm: {link}: is a symbolic link to {tmp_path / 'nowhere.xlsx'}, which does not exist"]


def test_a_lock_file_beside_a_symlinks_target_is_honoured(tmp_path: Path) -> None:
    target = book(tmp_path / "data" / "real.xlsx")
    (tmp_path / "data" / "~$real.xlsx").write_bytes(b"")
    link = tmp_path / "model.xlsx"
    link.symlink_to(target)
    proc = cli(str(link))
    assert proc.returncode == 1 and not refreshed(target)
    (line,) = errors(proc)
    assert line.startswith(f"xl-lstm: {link}: is open in Excel")


def test_a_hard_link_is_refused_and_kept(tmp_path: Path) -> None:
    """Replacing a hard-linked file would split the link, and writing into the shared inode in
    place can be cut half-way by a crash: it is refused, and --output still works."""
    a = book(tmp_path / "a.xlsx")
    b = tmp_path / "b.xlsx"
    os.link(a, b)
    proc = cli(str(a))
    assert proc.returncode == 1
    (line,) = errors(proc)
    assert line.startswith(f"xl-lstm: {a}: has 2 hard links;") and "--output" in line
    assert not refreshed(a) and os.path.samefile(a, b) and a.stat().st_nlink == 2
    out = tmp_path / "out"
    out.mkdir()
    copy = cli(str(a), "--output", str(out), "--quiet")
    assert copy.returncode == 0 and refreshed(out / "a.xlsx") and not refreshed(a), copy.stderr


def test_owner_group_and_mode_are_kept(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("CI runs as root: this test must run there")
        pytest.skip("giving a file to another user needs root")
    path = book(tmp_path / "theirs.xlsx")
    os.chown(path, 12345, 23456)
    path.chmod(0o640)
    proc = cli(str(path), "--quiet")
    assert proc.returncode == 0, proc.stderr
    st = path.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (12345, 23456, 0o640) and refreshed(path)


def test_a_file_this_user_cannot_give_back_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = book(tmp_path / "theirs.xlsx")
    monkeypatch.setattr(_io.os, "geteuid", lambda: path.stat().st_uid + 1)
    with pytest.raises(LSTMError, match=r"is owned by uid \d+, gid \d+; the refreshed file could not keep that owner"):
        _io.check_replaceable(path)


# ---- --output ---------------------------------------------------------------------------------
def test_two_sources_of_one_name_into_one_output_folder_are_refused_before_any_work(tmp_path: Path) -> None:
    x, y = book(tmp_path / "x" / "m.xlsx"), book(tmp_path / "y" / "m.xlsx")
    out = tmp_path / "out"
    out.mkdir()
    proc = cli(str(x), str(y), "--output", str(out))
    assert proc.returncode == 2 and proc.stdout == ""
    (line,) = errors(proc)
    assert (
        line
        == f"xl-lstm: {out / 'm.xlsx'}: both {x} and {y} would be written to it; refresh them into different --output folders"
    )
    assert list(out.iterdir()) == [] and not refreshed(x) and not refreshed(y)


def test_output_through_a_link_to_the_source_is_refused(tmp_path: Path) -> None:
    src = book(tmp_path / "m.xlsx")
    out = tmp_path / "out"
    out.mkdir()
    (out / "m.xlsx").symlink_to(src)
    proc = cli(str(src), "--output", str(out))
    assert proc.returncode == 1 and not refreshed(src)
    (line,) = errors(proc)
    assert line.startswith(f"xl-lstm: {src}: --output {out}")


def test_the_same_file_named_twice_is_refreshed_once(tmp_path: Path) -> None:
    path = book(tmp_path / "m.xlsx")
    (tmp_path / "alias.xlsx").symlink_to(path)
    proc = cli("m.xlsx", "./m.xlsx", "alias.xlsx", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "1 of 1 refreshed" and refreshed(path)


# ---- temporary files left by a killed refresh ------------------------------------------------------
def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temporary_files_are_removed_and_live_ones_reported(tmp_path: Path) -> None:
    path = book(tmp_path / "m.xlsx")
    host = host_name()
    dead = tmp_path / f".m.xlsx.xl-lstm.{host}.{_dead_pid()}.abcd1234.tmp"
    live = tmp_path / f".m.xlsx.xl-lstm.{host}.{os.getpid()}.efgh5678.tmp"  # this test process: alive
    legacy = tmp_path / ".m.xlsx.k2j4h5g6.tmp"  # the name before the tag, an hour old
    unrelated = tmp_path / ".m.xlsx.notes.tmp"
    for f in (dead, live, legacy, unrelated):
        f.write_bytes(b"PK half a zip")
    old = time.time() - 2 * _io.STALE_AFTER
    os.utime(legacy, (old, old))
    os.utime(unrelated, (old, old))
    proc = cli(str(path), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert not dead.exists() and not legacy.exists() and live.exists() and unrelated.exists()
    notes = [line for line in proc.stderr.splitlines() if "note:" in line]
    assert len(notes) == 3 and all(str(path) in n for n in notes)
    assert any(live.name in n and "left alone" in n for n in notes)
    assert refreshed(path)


def test_a_foreign_hosts_recent_temporary_file_is_left(tmp_path: Path) -> None:
    path = book(tmp_path / "m.xlsx")
    other = tmp_path / f".m.xlsx.xl-lstm.not-{socket.gethostname()[:8].replace('.', '-')}x.1.abcd1234.tmp"
    other.write_bytes(b"")
    removed, left = _io.clean_stale(path)
    assert removed == [] and left == [other] and other.exists()


def test_fit_refuses_a_hard_link_before_training(tmp_path: Path) -> None:
    a = book(tmp_path / "a.xlsx")
    os.link(a, tmp_path / "b.xlsx")
    start = time.perf_counter()
    proc = xl_lstm("fit", str(a), "--quiet")
    assert proc.returncode == 2 and proc.stdout == "" and time.perf_counter() - start < 30
    assert proc.stderr.startswith(f"xl-lstm: {a}: has 2 hard links;") and len(proc.stderr.splitlines()) == 1
    assert not refreshed(a)
