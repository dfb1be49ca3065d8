"""Hostile and unusual workbook XML and zips: a correct refresh or one line, within a budget.

Each case starts from the committed template and edits its parts as bytes. The refresh
runs in a subprocess under an address-space limit (1 GiB) and a wall-time limit (20 s),
so a quadratic scan or a huge allocation fails the test instead of hanging the run.
A refusal must be one ``LSTMError`` line naming the file, and leave the file as it was.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import TEMPLATE
from xl_lstm.core.limits import MAX_HORIZON
from xl_lstm.workbook import patch, xlsx
from xl_lstm.workbook.refresh import refresh_file

ORIGINAL = TEMPLATE.read_bytes()  # the committed template's bytes
WEIGHTS, INPUTS, STATES, NATIVE, FORECAST = (f"xl/worksheets/sheet{i}.xml" for i in (2, 3, 4, 5, 6))
MODEL, *FORECASTER = (
    f"xl/worksheets/sheet{i}.xml" for i in (8, 9, 10, 11, 12, 14)
)  # Forecaster model, Transforms, LSTM 1..3, Forecaster (13 is LSTM charts: no values)
MAIN = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
MEMORY = 1 << 30  # bytes of address space for the refresh
SECONDS = 20.0

RUNNER = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}))
from xl_lstm.core.errors import LSTMError
from xl_lstm.workbook.refresh import refresh_file
try:
    refresh_file(sys.argv[1], values_only="--values" in sys.argv)
    print(json.dumps({{"error": None}}))
except LSTMError as exc:
    print(json.dumps({{"error": str(exc)}}))
"""


# ---- helpers -----------------------------------------------------------------------------------
def edit(src: bytes, edits: dict[str, Callable[[bytes], bytes]], extra: list[tuple[str, bytes]] = ()) -> bytes:  # type: ignore[assignment]
    """A copy of a package with some parts' bytes changed, and members appended (even duplicates)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info.filename, edits[info.filename](data) if info.filename in edits else data)
        for name, data in extra:
            zout.writestr(name, data)
    return out.getvalue()


def name_to(text: str, name: str) -> Callable[[bytes], bytes]:
    """An edit of workbook.xml pointing defined name ``name`` at ``text``."""
    pattern = re.compile(rb'(<definedName name="' + name.encode() + rb'"[^>]*>)[^<]*(</definedName>)')
    return lambda x: pattern.sub(lambda m: m.group(1) + text.encode() + m.group(2), x, count=1)


def refresh_limited(path: Path, *flags: str) -> tuple[str | None, float]:
    """Refresh in a subprocess under MEMORY and SECONDS: (the LSTMError line or None, seconds)."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER.format(memory=MEMORY), str(path), *flags],
        capture_output=True,
        text=True,
        timeout=SECONDS,
        env=env,
        check=False,
    )
    seconds = time.perf_counter() - start
    assert proc.returncode == 0, f"the refresh crashed (not an LSTMError):\n{proc.stderr[-2000:]}"
    return json.loads(proc.stdout.splitlines()[-1])["error"], seconds


def assert_refused(tmp_path: Path, data: bytes, *says: str) -> str:
    """The refresh refuses data in one line naming the file and saying one of ``says``; the file stays."""
    path = tmp_path / "hostile.xlsx"
    path.write_bytes(data)
    error, _ = refresh_limited(path)
    assert error is not None, "refreshed, but should have been refused"
    assert any(s in error for s in says) and str(path) in error and "\n" not in error, error
    assert path.read_bytes() == data
    return error


def refreshed(tmp_path: Path, data: bytes, name: str = "ok.xlsx") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    error, _ = refresh_limited(path)
    assert error is None, error
    return path


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The template refreshed as it is: what every harmless variant must give."""
    path = tmp_path_factory.mktemp("reference") / "reference.xlsx"
    path.write_bytes(ORIGINAL)
    refresh_file(path)
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def sheet_values(path: Path, sheet: str) -> dict[str, object]:
    wb = openpyxl.load_workbook(path, data_only=True)
    return {c.coordinate: c.value for row in wb[sheet].iter_rows() for c in row if c.value is not None}


def reference_values(reference: dict[str, bytes], tmp_path: Path, sheet: str) -> dict[str, object]:
    path = tmp_path / "reference.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in reference.items():
            zf.writestr(name, data)
    return sheet_values(path, sheet)


# ---- malformed or quadratic XML -------------------------------------------------------------
@pytest.mark.parametrize("tags", [4_000, 8_000])
def test_unclosed_rows_are_refused_quickly(tmp_path: Path, tags: int) -> None:
    rows = b"".join(b'<row r="%d">' % (200 + i) for i in range(tags))
    data = edit(ORIGINAL, {STATES: lambda x: x.replace(b"</sheetData>", rows + b"</sheetData>")})
    error = assert_refused(tmp_path, data, "is not well-formed XML", "a <row> inside a <row>")
    assert STATES in error


def test_a_truncated_sheet_is_refused_with_where(tmp_path: Path) -> None:
    data = edit(ORIGINAL, {NATIVE: lambda x: x[: len(x) // 2]})
    error = assert_refused(tmp_path, data, "is not well-formed XML (")
    assert NATIVE in error and "line 1, column" in error


def test_a_row_inside_a_row_and_rows_going_up_are_refused(tmp_path: Path) -> None:
    nested = edit(
        ORIGINAL, {STATES: lambda x: x.replace(b"</sheetData>", b'<row r="149"><row r="150"/></row></sheetData>')}
    )
    assert_refused(tmp_path, nested, "a <row> inside a <row>")
    upward = edit(ORIGINAL, {STATES: lambda x: x.replace(b"</sheetData>", b'<row r="7"/></sheetData>')})
    assert_refused(tmp_path, upward, "row 7 comes after row 148")


def test_a_doctype_after_a_long_comment_is_refused(tmp_path: Path) -> None:
    """A DOCTYPE may follow any amount of prolog: the parser refuses it, not a look at the first bytes."""
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    data = edit(ORIGINAL, {WEIGHTS: lambda x: b"<!--" + b" " * 10_000 + b"-->" + bomb + x.split(b"?>", 1)[-1]})
    assert_refused(tmp_path, data, "declares a DOCTYPE")


def test_a_fake_row_in_a_comment_gets_nothing(tmp_path: Path, reference: dict[str, bytes]) -> None:
    fake = b'<!-- <row r="5"><c r="C5"><v>0</v></c></row> -->'
    data = edit(ORIGINAL, {STATES: lambda x: x.replace(b'<row r="5"', fake + b'<row r="5"', 1)})
    path = refreshed(tmp_path, data)
    with zipfile.ZipFile(path) as zf:
        after = zf.read(STATES)
    assert after.count(fake) == 1  # the comment is untouched ...
    assert after.replace(fake, b"") == reference[STATES]  # ... and the real rows got the numbers


def test_cdata_values_are_read_and_kept(tmp_path: Path, reference: dict[str, bytes]) -> None:
    """A weight stored as <v><![CDATA[...]]></v> reads as its number; CDATA in a user's cell stays."""
    weights = zipfile.ZipFile(io.BytesIO(ORIGINAL)).read(WEIGHTS)
    m = re.search(rb'<c r="C5"([^>]*)><v>([^<]+)</v></c>', weights)
    assert m is not None
    note = b'<c r="AB5" t="inlineStr"><is><t><![CDATA[a <row r="5"> & more]]></t></is></c>'

    def with_note(x: bytes) -> bytes:  # a user's cell right of row 5's block
        row5 = re.search(rb'<row r="5".*?</row>', x, re.S)
        assert row5 is not None
        return x[: row5.end() - 6] + note + x[row5.end() - 6 :]

    cdata = b'<c r="C5"' + m.group(1) + b"><v><![CDATA[" + m.group(2) + b"]]></v></c>"
    data = edit(ORIGINAL, {WEIGHTS: lambda x: x.replace(m.group(0), cdata), STATES: with_note})
    path = refreshed(tmp_path, data)
    with zipfile.ZipFile(path) as zf:
        assert zf.read(STATES) == with_note(reference[STATES])
        for part in (NATIVE, FORECAST, INPUTS):
            assert zf.read(part) == reference[part], part


def strip_refs(xml: bytes) -> bytes:
    """Cells and rows without r= wherever their position follows from the one before (valid OOXML)."""
    out, last_row = [], 0

    def row(m: re.Match[bytes]) -> bytes:
        nonlocal last_row
        r = int(m.group(1))
        head = m.group(0) if r != last_row + 1 else m.group(0).replace(b' r="%d"' % r, b"")
        last_row = r
        return head

    xml = re.sub(rb'<row r="(\d+)"', row, xml)
    for chunk in re.split(rb"(<row\b[^>]*>.*?</row>)", xml, flags=re.S):
        last_col = 0

        def cell(m: re.Match[bytes]) -> bytes:
            nonlocal last_col
            col = xlsx.column_index(m.group(1).decode())
            keep = col != last_col + 1
            last_col = col
            return m.group(0) if keep else b"<c"

        out.append(re.sub(rb'<c r="([A-Z]+)\d+"', cell, chunk) if chunk.startswith(b"<row") else chunk)
    return b"".join(out)


def test_cells_and_rows_without_r_get_their_values_in_place(tmp_path: Path, reference: dict[str, bytes]) -> None:
    original = zipfile.ZipFile(io.BytesIO(ORIGINAL)).read(STATES)
    stripped = strip_refs(original)
    assert stripped.count(b"<c>") + stripped.count(b"<c ") > 1000 and stripped.count(b"<row>") > 100
    data = edit(ORIGINAL, {STATES: lambda x: stripped, NATIVE: strip_refs, INPUTS: strip_refs, WEIGHTS: strip_refs})
    path = refreshed(tmp_path, data)
    with zipfile.ZipFile(path) as zf:
        after = zf.read(STATES)
    assert after.count(b"<c") == original.count(b"<c")  # nothing duplicated
    assert strip_refs(reference[STATES]) == after  # the same numbers as the plain template, in the same cells
    for sheet in ("States", "States (formulas)", "Inputs"):
        assert sheet_values(path, sheet) == reference_values(reference, tmp_path, sheet), sheet


def to_strict(xml: bytes) -> bytes:
    return xml.replace(MAIN, b"http://purl.oclc.org/ooxml/spreadsheetml/main").replace(
        b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
        b"http://purl.oclc.org/ooxml/officeDocument/relationships",
    )


def test_strict_ooxml_refreshes(tmp_path: Path, reference: dict[str, bytes]) -> None:
    parts = zipfile.ZipFile(io.BytesIO(ORIGINAL)).namelist()
    data = edit(ORIGINAL, {n: to_strict for n in parts if n.endswith((".xml", ".rels")) and n != "[Content_Types].xml"})
    path = refreshed(tmp_path, data)
    with zipfile.ZipFile(path) as zf:
        for part in (STATES, NATIVE, FORECAST, INPUTS):
            assert zf.read(part) == to_strict(reference[part]), part


def test_a_sheet_padded_with_empty_rows_is_read_once(tmp_path: Path, reference: dict[str, bytes]) -> None:
    """200,000 empty rows after the data of the sheets read and written: one linear pass each."""

    def pad(x: bytes) -> bytes:
        return x.replace(
            b"</sheetData>", b"".join(b'<row r="%d"/>' % r for r in range(1000, 201_000)) + b"</sheetData>"
        )

    data = edit(ORIGINAL, {WEIGHTS: pad, INPUTS: pad, STATES: pad})
    path = tmp_path / "padded.xlsx"
    path.write_bytes(data)
    error, seconds = refresh_limited(path)
    assert error is None, error
    assert seconds < SECONDS
    with zipfile.ZipFile(path) as zf:
        assert zf.read(STATES) == pad(reference[STATES])


# ---- budgets, before the work -----------------------------------------------------------------
def test_a_giant_defined_name_is_refused_by_its_cell_count(tmp_path: Path) -> None:
    data = edit(ORIGINAL, {"xl/workbook.xml": name_to("'Weights'!$A$1:$XFD$20000", "lstm_b")})
    assert_refused(tmp_path, data, "covers 327,680,000 cells, over the limit")


@pytest.mark.parametrize("where", ["'Forecast'!$XFE$5:$XFE$16", "'Forecast'!$AF$1048570:$AF$1048581"])
def test_names_past_the_edge_of_the_sheet_are_refused(tmp_path: Path, where: str) -> None:
    data = edit(ORIGINAL, {"xl/workbook.xml": name_to(where, "lstm_forecast_udf")})
    assert_refused(tmp_path, data, "goes past the")


def set_cell(row: int, col: int, value: float) -> Callable[[bytes], bytes]:
    return lambda x: patch.patch_sheet(x, {(row, col): value}, keep_formulas=False)


def test_a_huge_horizon_is_refused_before_computing(tmp_path: Path) -> None:
    data = edit(ORIGINAL, {FORECAST: set_cell(19, 31, 1_048_576.0)})  # lstm_horizon: Forecast!AE19
    assert_refused(tmp_path, data, f"lstm_horizon is 1,048,576, over the limit of {MAX_HORIZON:,}")


def test_many_steps_are_refused_before_reading(tmp_path: Path) -> None:
    data = edit(ORIGINAL, {"xl/workbook.xml": name_to("'Inputs'!$C$4:$C$500000", "lstm_series")})
    assert_refused(tmp_path, data, "lstm_series has 499,997 rows (time steps), over the limit")


# ---- the zip --------------------------------------------------------------------------------------
def flip_byte(src: bytes, member: str) -> bytes:
    """The package with one byte of ``member``'s compressed data inverted."""
    with zipfile.ZipFile(io.BytesIO(src)) as zf:
        info = zf.getinfo(member)
    header = src[info.header_offset : info.header_offset + 30]
    name_len, extra_len = int.from_bytes(header[26:28], "little"), int.from_bytes(header[28:30], "little")
    at = info.header_offset + 30 + name_len + extra_len + info.compress_size // 2
    return src[:at] + bytes([src[at] ^ 0xFF]) + src[at + 1 :]


@pytest.mark.parametrize(
    "member",
    [WEIGHTS, STATES, "xl/styles.xml", "xl/theme/theme1.xml"],
    ids=["read", "rewritten", "copied", "copied theme"],
)
def test_a_flipped_byte_in_a_member_is_one_line(tmp_path: Path, member: str) -> None:
    error = assert_refused(tmp_path, flip_byte(ORIGINAL, member), "is damaged")
    assert member in error


def test_duplicate_member_names_are_refused(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = edit(ORIGINAL, {}, extra=[("xl/workbook.xml", b"<workbook/>")])
    assert_refused(tmp_path, data, "holds part xl/workbook.xml more than once")


def test_refusals_leave_no_temporary_file(tmp_path: Path) -> None:
    assert_refused(tmp_path, flip_byte(ORIGINAL, "xl/styles.xml"), "is damaged")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hostile.xlsx"]


def test_the_runner_enforces_its_memory_limit(tmp_path: Path) -> None:
    """The budget is real: a refresh that allocated past MEMORY would crash, not pass."""
    code = f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({MEMORY}, {MEMORY})); b = bytearray({2 * MEMORY})"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=SECONDS, check=False)
    assert proc.returncode != 0 and "MemoryError" in proc.stderr


def test_each_sheet_is_parsed_once_for_reading_and_once_for_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many names on one sheet cost one pass over it, not one per name."""
    seen: list[str] = []
    real = xlsx.scan_sheet

    def counting(chunks, where, visitor, read_text=False):  # type: ignore[no-untyped-def]
        seen.append(where.rsplit(" ", 1)[-1] + (" read" if read_text else " write"))
        return real(chunks, where, visitor, read_text)

    monkeypatch.setattr(xlsx, "scan_sheet", counting)  # Book.cells reads with it
    monkeypatch.setattr(patch, "scan_sheet", counting)  # patch_sheet writes with it
    path = tmp_path / "book.xlsx"
    path.write_bytes(ORIGINAL)
    refresh_file(path)
    assert sorted(seen) == sorted(
        [f"{WEIGHTS} read", f"{INPUTS} read", f"{FORECAST} read"]  # 5 names on Weights, 2 on Inputs, 2 on Forecast
        + [f"{MODEL} read"]  # the forecaster's 8 names
        + [f"{p} write" for p in (INPUTS, STATES, NATIVE, FORECAST, *FORECASTER)]
    )


def test_values_mode_drops_the_calc_chain_by_parsing_not_by_pattern(tmp_path: Path) -> None:
    """--values drops xl/calcChain.xml, its relationship (single quotes too) and its content type;
    a comment that looks like them stays, and a megabyte of unclosed look-alikes costs no time."""
    lookalike = b"<!-- " + b"<Relationship Target=x " * 50_000 + b'<Relationship Target="calcChain.xml"/> -->'
    rel = b"<Relationship Id='rId99' Type='http://schemas.openxmlformats.org/officeDocument/2006/relationships/calcChain' Target='calcChain.xml'/>"
    override = b'<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"/>'
    chain = (
        b'<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><c r="C5" i="5"/></calcChain>'
    )
    data = edit(
        ORIGINAL,
        {
            "xl/_rels/workbook.xml.rels": lambda x: x.replace(
                b"</Relationships>", lookalike + rel + b"</Relationships>"
            ),
            "[Content_Types].xml": lambda x: x.replace(b"</Types>", override + b"</Types>"),
        },
        extra=[("xl/calcChain.xml", chain)],
    )
    path = tmp_path / "chain.xlsx"
    path.write_bytes(data)
    error, _ = refresh_limited(path, "--values")
    assert error is None, error
    with zipfile.ZipFile(io.BytesIO(data)) as before, zipfile.ZipFile(path) as after:
        assert "xl/calcChain.xml" not in after.namelist()
        assert after.read("xl/_rels/workbook.xml.rels") == before.read("xl/_rels/workbook.xml.rels").replace(rel, b"")
        assert after.read("[Content_Types].xml") == before.read("[Content_Types].xml").replace(override, b"")


def utf16(xml: bytes) -> bytes:
    text = xml.decode("utf-8")
    text = text.replace('encoding="UTF-8"', 'encoding="UTF-16"') if text.startswith("<?xml") else text
    return text.encode("utf-16")


def test_a_utf16_sheet_is_read_but_not_patched(tmp_path: Path, reference: dict[str, bytes]) -> None:
    """Read through the parser in any encoding it knows; patched by byte offsets only in UTF-8."""
    path = refreshed(tmp_path, edit(ORIGINAL, {WEIGHTS: utf16}))
    with zipfile.ZipFile(path) as zf:
        for part in (STATES, NATIVE, FORECAST, INPUTS):
            assert zf.read(part) == reference[part], part
    error = assert_refused(tmp_path, edit(ORIGINAL, {STATES: utf16}), "is encoded in UTF-16")
    assert STATES in error


def test_a_shared_string_input_is_named_in_the_refusal(tmp_path: Path) -> None:
    weights = zipfile.ZipFile(io.BytesIO(ORIGINAL)).read(WEIGHTS)
    m = re.search(rb'<c r="C5"([^>]*)><v>[^<]+</v></c>', weights)
    assert m is not None
    strings = b'<sst xmlns="' + MAIN + b'"><si><t>first</t></si><si><r><t>hel</t></r><r><t>lo</t></r></si></sst>'
    data = edit(
        ORIGINAL,
        {
            WEIGHTS: lambda x: x.replace(
                m.group(0), b'<c r="C5"' + re.sub(rb' t="\w+"', b"", m.group(1)) + b' t="s"><v>1</v></c>'
            )
        },
        extra=[("xl/sharedStrings.xml", strings)],
    )
    assert_refused(tmp_path, data, "lstm_W: cell Weights!C5 holds text 'hello'")
