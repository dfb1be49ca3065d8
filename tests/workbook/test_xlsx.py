"""The sheet-XML patcher and package reader under the refresh, on small hand-written XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from xl_lstm.core.errors import LSTMError
from xl_lstm.workbook.patch import patch_sheet
from xl_lstm.workbook.xlsx import CellRange, column_index, column_letters, parse_range

MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def sheet(rows: str, prefix: str = "") -> bytes:
    p = f"{prefix}:" if prefix else ""
    ns = f'xmlns:{prefix}="http://schemas.openxmlformats.org/spreadsheetml/2006/main"' if prefix else MAIN
    return (
        f'<?xml version="1.0"?><{p}worksheet {ns}><{p}dimension ref="A1:D9"/>'
        f'<{p}sheetData>{rows}</{p}sheetData><{p}mergeCells count="0"/></{p}worksheet>'
    ).encode()


def test_column_names_round_trip() -> None:
    for n in (1, 26, 27, 52, 702, 703, 16384):
        assert column_index(column_letters(n)) == n
    assert column_letters(28) == "AB" and column_index("XFD") == 16384


def test_parse_range_reads_quoted_sheets_and_single_cells() -> None:
    assert parse_range("'States (formulas)'!$C$5:$Z$148") == CellRange("States (formulas)", 5, 3, 148, 26)
    assert parse_range("Forecast!$AE$19") == CellRange("Forecast", 19, 31, 19, 31)
    assert parse_range("'It''s'!A1:B2").sheet == "It's"
    for bad in ("A1:B2", "Sheet!A1:B2,C3", "Sheet!#REF!"):
        with pytest.raises(LSTMError):
            parse_range(bad)


def test_only_the_given_cells_change() -> None:
    rows = (
        '<row r="2" spans="1:4"><c r="A2" t="s"><v>0</v></c><c r="B2" s="3"><f>A1*2</f><v>4</v></c>'
        '<c r="D2" s="5"><v>9</v></c></row><row r="3"><c r="A3"><v>1</v></c></row>'
    )
    before = sheet(rows)
    after = patch_sheet(before, {(2, 2): 0.25, (2, 3): -1.5})
    assert b'<c r="A2" t="s"><v>0</v></c>' in after and b'<c r="D2" s="5"><v>9</v></c>' in after
    assert b'<c r="B2" s="3"><f>A1*2</f><v>0.25</v></c>' in after  # formula and style kept
    assert b'<c r="C2"><v>-1.5</v></c><c r="D2"' in after  # new cell in column order
    assert b'<row r="3"><c r="A3"><v>1</v></c></row>' in after
    assert after.replace(b"0.25", b"4").replace(b'<c r="C2"><v>-1.5</v></c>', b"") == before
    ET.fromstring(after)  # still well-formed


def test_rows_are_created_in_order_and_spans_widened() -> None:
    after = patch_sheet(
        sheet('<row r="3" spans="1:2"><c r="A3"><v>1</v></c></row>'), {(1, 1): 2.0, (3, 5): 3.0, (9, 2): 4.0}
    )
    root = ET.fromstring(after)
    rows = [r.get("r") for r in root.iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}row")]
    assert rows == ["1", "3", "9"]
    assert b'<row r="3" spans="1:5">' in after


def test_values_mode_drops_formulas_but_keeps_a_shared_master() -> None:
    rows = (
        '<row r="5"><c r="C5"><f t="shared" ref="C5:C9" si="0">A5*2</f><v>1</v></c><c r="D5" cm="1"><f t="array" ref="D5">SORT(A1:A3)</f><v>3</v></c></row>'
        '<row r="6"><c r="C6"><f t="shared" si="0"/><v>2</v></c></row>'
    )
    after = patch_sheet(sheet(rows), {(5, 3): 1.5, (5, 4): 2.5, (6, 3): 7.0}, keep_formulas=False)
    assert b'<c r="C5"><f t="shared" ref="C5:C9" si="0">A5*2</f><v>1.5</v></c>' in after  # C7:C9 still need it
    assert b'<c r="D5"><v>2.5</v></c>' in after  # formula and its dynamic-array flag gone
    assert b'<c r="C6"><v>7.0</v></c>' in after


def test_text_errors_and_non_finite_values() -> None:
    after = patch_sheet(
        sheet('<row r="1"><c r="A1"><f>X()</f><v>1</v></c></row>'),
        {(1, 1): "MAE", (1, 2): "a<b&c", (1, 3): float("nan"), (1, 4): "#NUM!"},
    )
    assert b'<c r="A1" t="str"><f>X()</f><v>MAE</v></c>' in after
    assert b'<c r="B1" t="inlineStr"><is><t>a&lt;b&amp;c</t></is></c>' in after
    assert b'<c r="C1" t="e"><v>#NUM!</v></c>' in after and b'<c r="D1" t="e"><v>#NUM!</v></c>' in after


def test_prefixed_namespace_and_empty_sheet_data() -> None:
    after = patch_sheet(
        sheet('<x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c></x:row>', prefix="x"), {(1, 1): 5.0, (2, 1): 6.0}
    )
    assert (
        b'<x:row r="1"><x:c r="A1"><x:v>5.0</x:v></x:c></x:row><x:row r="2"><x:c r="A2"><x:v>6.0</x:v></x:c></x:row>'
        in after
    )
    cells = ET.fromstring(after).iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}v")
    assert [v.text for v in cells] == ["5.0", "6.0"]  # <v> in the right namespace
    empty = b"<worksheet " + MAIN.encode() + b"><sheetData/><pageMargins/></worksheet>"
    out = patch_sheet(empty, {(2, 2): 1.0})
    assert (
        out
        == b"<worksheet "
        + MAIN.encode()
        + b'><sheetData><row r="2"><c r="B2"><v>1.0</v></c></row></sheetData><pageMargins/></worksheet>'
    )


def test_numbers_are_stored_exactly() -> None:
    rng = np.random.default_rng(0)
    values = {(1, c): float(v) for c, v in enumerate(rng.standard_normal(50) * 10.0 ** rng.integers(-300, 300, 50), 1)}
    after = patch_sheet(sheet(""), values)
    root = ET.fromstring(after)
    got = [float(v.text) for v in root.iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}v")]
    assert got == list(values.values())


def test_the_dimension_hint_grows_to_cover_written_cells_only_when_needed() -> None:
    before = sheet('<row r="1"><c r="A1"><v>1</v></c></row>')  # <dimension ref="A1:D9"/>
    assert patch_sheet(before, {(2, 2): 1.0}).count(b'<dimension ref="A1:D9"/>') == 1  # inside: untouched
    after = patch_sheet(before, {(12, 6): 1.0})
    assert b'<dimension ref="A1:F12"/>' in after
