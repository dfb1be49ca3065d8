"""What the workbook writers refuse: blocks that would overwrite an input, and a file that
another writer holds or changed since it was read (issue 20, items 1 and 2).

Each test takes the committed template, sets up the mistake or the race deterministically
(a defined name repointed; a second command run from inside the first's progress callback;
a file changed from inside the write) and checks the one-line refusal and the file's bytes.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import TEMPLATE
from tests.limited import xl_lstm
from xl_lstm.core import locks
from xl_lstm.core.errors import LSTMError
from xl_lstm.core.files import atomic_write, seen
from xl_lstm.workbook import refresh as refresh_module
from xl_lstm.workbook.blocks import check_overlaps
from xl_lstm.workbook.fit import fit_workbook
from xl_lstm.workbook.refresh import refresh_file
from xl_lstm.workbook.xlsx import CellRange

ORIGINAL = TEMPLATE.read_bytes()


def repoint(data: bytes, name: str, target: str) -> bytes:
    """The workbook with defined name ``name`` pointed at ``target`` (as a user's edit in Name Manager)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            part = src.read(info)
            if info.filename == "xl/workbook.xml":
                pattern = rb'(<definedName name="' + name.encode() + rb'"[^>]*>)[^<]*'
                part, n = re.subn(pattern, rb"\g<1>" + target.encode(), part)
                assert n == 1, name
            dst.writestr(info, part)
    return out.getvalue()


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.startswith("xl-lstm:") and "note:" not in line]
    assert "Traceback" not in text and len(lines) == 1, text
    return lines[0]


# ---- 1. an output block over an input ----------------------------------------------------------
def test_refresh_and_fit_refuse_an_output_pointed_at_the_series(tmp_path: Path) -> None:
    """The issue's case: lstm_states_inputs pointed at lstm_series' cells; the series would become x."""
    path = tmp_path / "book.xlsx"
    path.write_bytes(repoint(ORIGINAL, "lstm_states_inputs", "'Inputs'!$C$4:$C$147"))
    before = path.read_bytes()
    want = (
        f"{path}: output block lstm_states_inputs (Inputs!C4:C147) overlaps input block lstm_series "
        "(Inputs!C4:C147) at Inputs!C4"
    )
    with pytest.raises(LSTMError, match=re.escape(want)):
        refresh_file(path)
    assert path.read_bytes() == before
    proc = xl_lstm("refresh", str(path), "--quiet")
    assert proc.returncode == 1 and one_line(proc.stderr).startswith(f"xl-lstm: {want};")
    proc = xl_lstm("fit", str(path), "--epochs", "1", "--quiet")
    assert proc.returncode == 2 and one_line(proc.stderr).startswith(f"xl-lstm: {want};")
    epochs: list[object] = []
    with pytest.raises(LSTMError, match=re.escape(want)):
        fit_workbook(path, on_epoch=epochs.append)
    assert epochs == []  # refused before training, not after
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]  # no temporary or lock file left


def test_two_outputs_over_each_other_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(repoint(ORIGINAL, "lstm_forecast_udf", "'Forecast'!$AB$10:$AB$21"))
    before = path.read_bytes()
    with pytest.raises(LSTMError, match=r"output block lstm_forecast_udf \(Forecast!AB10:AB21\) overlaps output block"):
        refresh_file(path)
    assert path.read_bytes() == before


def test_an_output_over_a_name_only_the_sheets_read_is_refused(tmp_path: Path) -> None:
    """lstm_h0 is read by the States sheet only, never by the refresh: still an input of the sheets."""
    path = tmp_path / "book.xlsx"
    path.write_bytes(repoint(ORIGINAL, "lstm_h0", "'States'!$C$5:$F$5"))
    before = path.read_bytes()
    with pytest.raises(LSTMError, match=r"output block lstm_states \(States!C5:Z148\) overlaps input block lstm_h0"):
        refresh_file(path)
    assert path.read_bytes() == before


def test_the_same_cells_on_another_sheet_do_not_overlap() -> None:
    series = {"lstm_series": CellRange("Inputs", 4, 3, 147, 3)}
    check_overlaps({"lstm_states_inputs": CellRange("States", 4, 3, 147, 3)}, series, "book")  # no refusal
    with pytest.raises(LSTMError, match=r"at Inputs!C147"):  # sheet names are one sheet whatever their case
        check_overlaps({"lstm_inputs": CellRange("INPUTS", 147, 1, 150, 3)}, series, "book")


def test_the_committed_template_has_no_overlap(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(ORIGINAL)
    assert refresh_file(path).cells > 0


# ---- 2. one write discipline ---------------------------------------------------------------------
def test_a_refresh_during_a_fit_refuses_and_the_fit_is_kept(tmp_path: Path) -> None:
    """The issue's race, deterministic: a refresh started while fit trains (from fit's progress callback)."""
    path = tmp_path / "book.xlsx"
    path.write_bytes(ORIGINAL)
    during: list[subprocess.CompletedProcess[str]] = []

    def on_epoch(epoch: object) -> None:
        if not during:
            during.append(xl_lstm("refresh", str(path), "--quiet"))

    _, result = fit_workbook(path, epochs=2, on_epoch=on_epoch)
    (proc,) = during
    assert proc.returncode == 1
    line = one_line(proc.stderr)
    assert line.startswith(f"xl-lstm: {path}: another xl-lstm fit is writing it (pid {os.getpid()} on ")
    assert line.endswith("left alone, try again when it ends (lock file .book.xlsx.xl-lstm.lock)")
    assert result.path == path and path.read_bytes() != ORIGINAL  # the fit's weights are there
    assert not locks.lock_path(path).exists()


def test_a_file_changed_while_fit_trains_is_not_overwritten(tmp_path: Path) -> None:
    """A writer that takes no lock (Excel saving, an older xl-lstm) changes the file during training."""
    path = tmp_path / "book.xlsx"
    path.write_bytes(ORIGINAL)
    edited = repoint(ORIGINAL, "lstm_h0", "'States'!W4:Z4")  # same name, same place: other bytes
    assert edited != ORIGINAL

    def on_epoch(epoch: object) -> None:
        path.write_bytes(edited)

    with pytest.raises(LSTMError, match=rf"^{re.escape(str(path))}: changed since it was read at [0-9:]+ \("):
        fit_workbook(path, epochs=1, on_epoch=on_epoch)
    assert path.read_bytes() == edited
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]


@pytest.mark.parametrize("how", ["replaced", "written in place"])
def test_a_file_changed_between_read_and_rename_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """The last moment: the other writer lands while the refreshed copy is being written."""
    path = tmp_path / "book.xlsx"
    path.write_bytes(ORIGINAL)
    theirs = repoint(ORIGINAL, "lstm_h0", "'States'!W4:Z4")
    write_package = refresh_module.write_package

    def racing(*args: object) -> None:
        write_package(*args)  # type: ignore[arg-type]
        if how == "replaced":
            other = tmp_path / "other.tmp"
            other.write_bytes(theirs)
            os.replace(other, path)
        else:
            with open(path, "r+b") as fh:
                fh.write(theirs[: len(ORIGINAL)])  # same size
            st = path.stat()
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))

    monkeypatch.setattr(refresh_module, "write_package", racing)
    with pytest.raises(LSTMError, match="changed since it was read"):
        refresh_file(path)
    assert path.read_bytes()[:100] == theirs[:100]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]


def test_a_file_with_its_time_put_back_is_still_caught_by_its_hash(tmp_path: Path) -> None:
    """Same inode, size and mtime (a coarse-clock disk, or a tool that restores times): the hash differs."""
    path = tmp_path / "table.csv"
    path.write_bytes(b"a,b\n1,2\n")
    before = seen(path)
    st = path.stat()
    with open(path, "r+b") as fh:
        fh.write(b"A")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert seen(path).stat == before.stat and seen(path).digest != before.digest
    with pytest.raises(LSTMError, match="changed since it was read at [0-9:]+ \\(it was written meanwhile"):
        atomic_write(path, lambda fh: fh.write(b"ours"), expect=before)
    assert path.read_bytes() == b"A,b\n1,2\n"


@pytest.mark.parametrize("owner", ["~$book.xlsx", ".~lock.book.xlsx#"])
def test_a_workbook_open_in_excel_or_libreoffice_is_refused(tmp_path: Path, owner: str) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(ORIGINAL)
    (tmp_path / owner).write_bytes(b"someone")
    app = "Excel" if owner.startswith("~$") else "LibreOffice"
    for command in (["refresh"], ["fit", "--epochs", "1"]):
        proc = xl_lstm(*command, str(path), "--quiet")
        assert proc.returncode in (1, 2)
        assert one_line(proc.stderr).startswith(f"xl-lstm: {path}: is open in {app} (lock file {tmp_path / owner})")
    assert path.read_bytes() == ORIGINAL


def test_excel_opening_the_file_during_a_refresh_stops_its_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(ORIGINAL)
    compute = refresh_module.compute_blocks

    def opened_meanwhile(model: object) -> object:
        (tmp_path / "~$book.xlsx").write_bytes(b"")
        return compute(model)  # type: ignore[arg-type]

    monkeypatch.setattr(refresh_module, "compute_blocks", opened_meanwhile)
    with pytest.raises(LSTMError, match="is open in Excel"):
        refresh_file(path)
    assert path.read_bytes() == ORIGINAL


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_stale_lock_of_a_dead_process_is_cleaned(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(ORIGINAL)
    lock = locks.lock_path(path)
    lock.write_text(f"host={locks.host_name()} pid={_dead_pid()} nonce=0 what=refresh since=2026-01-01T00:00:00\n")
    proc = xl_lstm("refresh", str(path), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert path.read_bytes() != ORIGINAL and not lock.exists()


def test_a_live_or_foreign_lock_is_refused_and_left(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(ORIGINAL)
    lock = locks.lock_path(path)
    live = f"host={locks.host_name()} pid={os.getpid()} nonce=1 what=fit since=2026-01-01T00:00:00\n"
    foreign = "host=elsewhere pid=1 nonce=2 what=refresh since=2026-01-01T00:00:00\n"
    for text, hint in ((live, ")"), (foreign, ": delete it if that process has ended)")):
        lock.write_text(text)
        with pytest.raises(LSTMError, match=re.escape(f"(lock file {lock.name}{hint}")):
            refresh_file(path)
        assert lock.read_text() == text and path.read_bytes() == ORIGINAL


@pytest.mark.slow  # builds templates: seconds
def test_two_templates_made_at_once_do_not_overwrite_each_other(tmp_path: Path) -> None:
    """Both found no file, both trained; the second to finish must not rename over the first's."""
    from xl_lstm.template.build import write_template

    path = tmp_path / "new.xlsx"
    made: list[Path] = []

    def on_epoch(epoch: object) -> None:
        if not made:
            made.append(write_template(path, train_epochs=0))  # the other run, finishing first

    with pytest.raises(
        LSTMError, match=r"new.xlsx: changed since it was read at [0-9:]+ \(a file of that name was made"
    ):
        write_template(path, train_epochs=1, on_epoch=on_epoch)
    assert made == [path] and path.read_bytes() == write_template(tmp_path / "again.xlsx", train_epochs=0).read_bytes()
