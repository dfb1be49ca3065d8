"""xl-lstm refresh: the engine's numbers land in the template's blocks, and nothing else changes.

"Nothing else" is checked two ways: byte for byte on the package (every other zip
part, every other <c> element of a refreshed sheet, everything outside sheetData),
and through independent readers (openpyxl, pandas, LibreOffice) on the values.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

import xl_lstm as xl
from tests.libreoffice import as_stored, recalculate
from tests.workbooks import sheet_parts, target_cells
from xl_lstm.core.errors import LSTMError
from xl_lstm.forecasting.metrics import METRICS, error_metrics
from xl_lstm.lstm.recursive import recursive_forecast
from xl_lstm.template.build import template_bytes
from xl_lstm.template.model import template_model
from xl_lstm.workbook import patch
from xl_lstm.workbook.refresh import refresh_file

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "workbooks" / "lstm_template.xlsx"


# ---- helpers -----------------------------------------------------------------------------
def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


CELL = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]+[0-9]+)"[^>]*?(?:/>|>.*?</(?:\w+:)?c>)', re.S)


def cells_by_name(xml: bytes) -> dict[str, bytes]:
    return {m.group(1).decode(): m.group(0) for m in CELL.finditer(xml)}


def assert_only_targets_changed(before: Path, after: Path) -> None:
    """Every zip part but the refreshed sheets is identical; in those, only target cells differ."""
    old, new = members(before), members(after)
    assert list(old) == list(new), "the package's parts (or their order) changed"
    targets = target_cells(before)
    parts = {part: sheet for sheet, part in sheet_parts(before).items()}
    for name in old:
        if old[name] == new[name]:
            continue
        assert name in parts and parts[name] in targets, f"{name} changed but holds no refreshed block"
        a, b = old[name], new[name]
        # everything outside sheetData stays, but for the dimension hint, which may grow to cover the blocks
        outside = re.compile(
            rb"<(?:\w+:)?sheetData\b.*</(?:\w+:)?sheetData>|<(?:\w+:)?sheetData/>"
            rb"|<(?:\w+:)?dimension\b[^>]*>",
            re.S,
        )
        assert outside.sub(b"", a) == outside.sub(b"", b), f"{name}: XML outside sheetData changed"
        ca, cb = cells_by_name(a), cells_by_name(b)
        allowed = targets[parts[name]]
        for ref in set(ca) | set(cb):
            if ref not in allowed:
                assert ca.get(ref) == cb.get(ref), f"{parts[name]}!{ref} changed but is not in a refreshed block"
        for ref in set(ca) & allowed:  # refreshed cells keep their style
            style = re.search(rb'\bs="(\d+)"', ca[ref])
            if style:
                assert style.group(0) in cb[ref], f"{parts[name]}!{ref} lost its style"


def values(path: Path, name: str) -> np.ndarray:
    """A defined name's stored values as openpyxl (data_only) reads them."""
    wb = openpyxl.load_workbook(path, data_only=True)
    ((sheet, ref),) = wb.defined_names[name].destinations
    rows = wb[sheet][ref.replace("$", "")]
    rows = rows if isinstance(rows, tuple) else ((rows,),)
    return np.array([[c.value for c in row] for row in rows], dtype=object)


@pytest.fixture
def book(tmp_path: Path) -> Path:
    path = tmp_path / "model.xlsx"
    path.write_bytes(TEMPLATE.read_bytes())
    return path


def engine_reference():
    m = template_model()
    T_h = m.history_steps
    fc = recursive_forecast(m.params, m.raw[:T_h], m.horizon, m.center, m.scale)
    metrics = error_metrics(m.raw[T_h:, 0], fc[:, 0], m.season, m.raw[:T_h, 0])
    return m, xl.run(m.params, m.scaled).table(), fc, [metrics[k] for k in METRICS]


# ---- the numbers ---------------------------------------------------------------------------
@pytest.mark.parametrize("values_only", [False, True], ids=["formulas kept", "--values"])
def test_refresh_stores_the_engines_numbers(book: Path, values_only: bool) -> None:
    result = refresh_file(book, values_only=values_only)
    m, table, fc, metrics = engine_reference()
    assert result.metrics == dict(zip(METRICS, metrics, strict=True))  # what the command prints
    for name in ("lstm_states", "lstm_states_formulas"):
        np.testing.assert_array_equal(values(book, name).astype(float), table)  # exact: floats stored by repr
    for name in ("lstm_inputs", "lstm_states_inputs", "lstm_states_formulas_inputs"):
        np.testing.assert_array_equal(values(book, name).astype(float), m.scaled)
    np.testing.assert_array_equal(values(book, "lstm_forecast_udf").astype(float), fc)
    np.testing.assert_array_equal(values(book, "lstm_forecast_formulas").astype(float), fc)
    np.testing.assert_array_equal(values(book, "lstm_actuals").astype(float), m.raw[m.history_steps :, :1])
    assert list(values(book, "lstm_metrics_udf")[:, 0]) == list(METRICS)
    np.testing.assert_array_equal(values(book, "lstm_metrics_udf")[:, 1].astype(float), metrics)
    np.testing.assert_array_equal(values(book, "lstm_metrics_formulas").astype(float).ravel(), metrics)

    formulas = openpyxl.load_workbook(book)
    states, native = formulas["States"], formulas["States (formulas)"]
    if values_only:  # plain numbers now
        assert isinstance(states["C5"].value, float) and isinstance(native["C5"].value, float)
    else:  # the formulas are still there, with cached values
        assert isinstance(states["C5"].value, openpyxl.worksheet.formula.ArrayFormula)
        assert str(native["C5"].value).startswith("=1/(1+EXP(")


@pytest.mark.parametrize("values_only", [False, True], ids=["formulas kept", "--values"])
def test_refresh_changes_nothing_but_the_blocks(book: Path, tmp_path: Path, values_only: bool) -> None:
    before = tmp_path / "before.xlsx"
    before.write_bytes(book.read_bytes())
    refresh_file(book, values_only=values_only)
    assert_only_targets_changed(before, book)


def test_refresh_twice_gives_the_same_file(book: Path) -> None:
    refresh_file(book)
    once = members(book)
    refresh_file(book)
    assert members(book) == once


def test_other_readers_see_the_numbers(book: Path, tmp_path: Path) -> None:
    """pandas sees every refreshed block; LibreOffice, opening without recalculating, sees the
    native blocks, and (since it marks functions it does not know as #NAME? whatever is
    stored) the LSTM_ blocks once --values has made them plain numbers."""
    refresh_file(book)
    _, table, _, _ = engine_reference()
    frame = pd.read_excel(book, sheet_name="States", header=None)
    np.testing.assert_array_equal(frame.iloc[4:148, 2:26].to_numpy(float), table)  # rows 5.., columns C..Z
    stored = as_stored(book, tmp_path)
    np.testing.assert_allclose(values(stored, "lstm_states_formulas").astype(float), table, rtol=1e-14)
    assert set(values(stored, "lstm_states").ravel()) == {"#NAME?"}
    refresh_file(book, values_only=True)
    stored = as_stored(book, tmp_path / "values")
    np.testing.assert_allclose(values(stored, "lstm_states").astype(float), table, rtol=1e-14)


def test_libreoffice_recalculation_agrees_with_the_stored_values(book: Path, tmp_path: Path) -> None:
    """A real spreadsheet engine recomputing the native formulas lands on the numbers we stored."""
    refresh_file(book)
    recalculated = recalculate(book, tmp_path)
    for name in ("lstm_states_formulas", "lstm_inputs", "lstm_forecast_formulas", "lstm_metrics_formulas"):
        np.testing.assert_allclose(
            values(recalculated, name).astype(float), values(book, name).astype(float), rtol=1e-12, atol=0
        )
    steps = values(book, "lstm_forecast_steps")
    again = values(recalculated, "lstm_forecast_steps")
    given = steps != None  # noqa: E711  (object array: the cells the block fills)
    np.testing.assert_allclose(again[given].astype(float), steps[given].astype(float), rtol=1e-12, atol=1e-300)


def test_workbooks_made_under_the_former_names_still_refresh(book: Path) -> None:
    """Until 0.2 two names equalled function names (lstm_forecast, lstm_metrics): such workbooks still refresh."""
    with zipfile.ZipFile(book) as zf:
        parts = {i: zf.read(i.filename) for i in zf.infolist()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, body in parts.items():
            if info.filename == "xl/workbook.xml":
                body = body.replace(b'name="lstm_forecast_udf"', b'name="lstm_forecast"').replace(
                    b'name="lstm_metrics_udf"', b'name="lstm_metrics"'
                )
            zf.writestr(info, body)
    book.write_bytes(out.getvalue())
    result = refresh_file(book, values_only=True)
    _, _, fc, metrics = engine_reference()
    assert result.metrics == dict(zip(METRICS, metrics, strict=True))
    np.testing.assert_array_equal(values(book, "lstm_forecast").astype(float), fc)
    np.testing.assert_array_equal(values(book, "lstm_metrics")[:, 1].astype(float), metrics)


# ---- many files, the command -------------------------------------------------------------
def cli(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xl_lstm", *argv], check=False, capture_output=True, text=True, timeout=300, cwd=cwd
    )


def test_cli_refreshes_folders_with_jobs_and_reports(tmp_path: Path) -> None:
    for name in ("a.xlsx", "b.xlsx", "c.xlsx"):
        (tmp_path / name).write_bytes(TEMPLATE.read_bytes())
    proc = cli("refresh", str(tmp_path), "--jobs", "2")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["file", "steps", "time", "status"]
    assert [line.split()[-1] for line in lines[1:4]] == ["ok", "ok", "ok"] and lines[-1] == "3 of 3 refreshed"
    assert proc.stderr == ""  # not a terminal: no progress bar, the summary says it all
    _, table, _, _ = engine_reference()
    for name in ("a.xlsx", "b.xlsx", "c.xlsx"):
        np.testing.assert_array_equal(values(tmp_path / name, "lstm_states").astype(float), table)


def test_cli_output_folder_leaves_the_originals(tmp_path: Path) -> None:
    src, out = tmp_path / "model.xlsx", tmp_path / "out"
    src.write_bytes(TEMPLATE.read_bytes())
    out.mkdir()
    proc = cli("refresh", str(src), "--values", "--output", str(out), "--quiet")
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == "", proc.stderr
    assert src.read_bytes() == TEMPLATE.read_bytes()
    assert isinstance(openpyxl.load_workbook(out / "model.xlsx")["States"]["C5"].value, float)
    same = cli("refresh", str(src), "--output", str(tmp_path))
    assert same.returncode == 1 and "is the file's own folder" in same.stderr


# ---- what is refused, and how --------------------------------------------------------------
def _with_part(src: bytes, name: str, edit) -> bytes:  # type: ignore[no-untyped-def]
    """A copy of a package with one part's bytes changed by edit(bytes) -> bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info.filename, edit(data) if info.filename == name else data)
    return out.getvalue()


def _weights_cell_text(src: bytes) -> bytes:
    part = "xl/worksheets/sheet2.xml"  # Weights
    return _with_part(src, part, lambda x: patch.patch_sheet(x, {(5, 3): "abc"}, keep_formulas=False))


def _bomb(path: Path) -> None:
    """A real zip bomb: a 300 MiB member of zeros that deflates to ~300 KiB."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in ("[Content_Types].xml", "xl/workbook.xml"):
            zf.writestr(name, TEMPLATE.read_bytes()[:0] or b"<x/>")
        with zf.open("xl/worksheets/sheet1.xml", "w") as fh:
            block = bytes(1 << 20)
            for _ in range(300):
                fh.write(block)


XML_BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
    b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">&lol2;</workbook>'
)

BAD_FILES = {
    "text": (lambda t: b"just some text\n", "not an .xlsx workbook (not a zip package"),
    "encrypted": (lambda t: bytes.fromhex("D0CF11E0A1B11AE1") + bytes(4088), "encrypted (password-protected)"),
    "truncated": (lambda t: t[: len(t) // 2], "not an .xlsx workbook"),
    "xml bomb": (lambda t: _with_part(t, "xl/workbook.xml", lambda x: XML_BOMB), "declares a DOCTYPE"),
    "missing name": (
        lambda t: _with_part(
            t, "xl/workbook.xml", lambda x: re.sub(rb'<definedName name="lstm_W">[^<]*</definedName>', b"", x)
        ),
        "missing defined name(s) lstm_W",
    ),
    "wrong shape": (
        lambda t: _with_part(
            t, "xl/workbook.xml", lambda x: x.replace(b"'Weights'!$B$23:$E$23", b"'Weights'!$B$23:$D$23")
        ),
        "lstm_W_y must be 1×4",
    ),
    "text input": (_weights_cell_text, "lstm_W: cell Weights!C5 holds text"),
    "damaged part": (lambda t: t.replace(b"xl/worksheets/sheet3.xml", b"xl/worksheets/sheetX.xml", 1), "is damaged"),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_refuses_bad_files_in_one_line_and_leaves_them(tmp_path: Path, kind: str) -> None:
    make, message = BAD_FILES[kind]
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(make(TEMPLATE.read_bytes()))
    before = bad.read_bytes()
    with pytest.raises(LSTMError) as err:
        refresh_file(bad)
    assert message in str(err.value) and "\n" not in str(err.value) and str(bad) in str(err.value)
    assert bad.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.xlsx"]  # no temporary file left


def test_refuses_a_zip_bomb_quickly(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xlsx"
    _bomb(bomb)
    assert bomb.stat().st_size < 2 << 20
    start = time.perf_counter()
    with pytest.raises(LSTMError, match="zip bomb|inflate"):
        refresh_file(bomb)
    assert time.perf_counter() - start < 2.0  # refused from the directory, before inflating anything


def test_refuses_read_only_and_open_files(book: Path) -> None:
    book.chmod(0o444)
    with pytest.raises(LSTMError, match="is read-only"):
        refresh_file(book)
    book.chmod(0o644)
    lock = book.with_name("~$" + book.name)
    lock.write_bytes(b"")
    with pytest.raises(LSTMError, match="is open in Excel"):
        refresh_file(book)


def test_cli_goes_on_after_a_bad_file(tmp_path: Path) -> None:
    good1, bad, good2 = tmp_path / "1.xlsx", tmp_path / "2.xlsx", tmp_path / "3.xlsx"
    for p in (good1, good2):
        p.write_bytes(TEMPLATE.read_bytes())
    bad.write_bytes(b"not a workbook")
    proc = cli("refresh", str(good1), str(bad), str(good2))
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if line.startswith("xl-lstm:")]
    assert len(errors) == 1 and str(bad) in errors[0] and "Traceback" not in proc.stderr
    assert proc.stdout.splitlines()[-1] == "2 of 3 refreshed"
    assert good1.read_bytes() != TEMPLATE.read_bytes() and bad.read_bytes() == b"not a workbook"


def test_cli_refuses_no_workbooks(tmp_path: Path) -> None:
    proc = cli("refresh", "--glob", str(tmp_path / "*.xlsx"))
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1


# ---- atomic: a killed refresh leaves the original whole ------------------------------------------
def test_killing_a_refresh_mid_write_leaves_the_original_intact(tmp_path: Path) -> None:
    """SIGKILL a refresh at growing delays until one dies with its temporary file half-written."""
    t = np.arange(1500)  # a large workbook within the template's cell budget (1,543 steps at H=4)
    src = template_bytes(series=100 + 10 * np.sin(2 * np.pi * t / 12) + 0.01 * t, train_epochs=0)
    path = tmp_path / "big.xlsx"
    code = f"from xl_lstm.workbook.refresh import refresh_file; refresh_file({str(path)!r})"
    caught_mid_write = False
    for delay in np.linspace(0.3, 3.0, 28):
        path.write_bytes(src)
        for tmp in tmp_path.glob(".big.xlsx.*.tmp"):
            tmp.unlink()
        proc = subprocess.Popen([sys.executable, "-c", code])
        time.sleep(float(delay))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        leftovers = list(tmp_path.glob(".big.xlsx.*.tmp"))
        data = path.read_bytes()
        if data == src:
            caught_mid_write |= bool(leftovers)
        else:  # the rename happened: then the new file is whole
            with zipfile.ZipFile(path) as zf:
                assert zf.testzip() is None
        if caught_mid_write:
            break
    assert caught_mid_write, "no kill landed while the temporary file was being written"
    assert os.path.getsize(path) == len(src) and path.read_bytes() == src
