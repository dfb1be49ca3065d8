"""The one cell writer: data text stays text (never a formula or an error value), is escaped the
way Excel reads it and comes back exactly; text a cell cannot hold is refused, never cut."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter

from tests.sheet_xml import xml_cells
from xl_lstm.core.errors import LSTMError
from xl_lstm.core.sheet_cells import (
    MAX_CELL_CHARS,
    display_text,
    put_formula,
    put_value,
    read_sheet_text,
    sheet_text,
    typed_text,
)

# text a user's table may hold: any characters (control characters, CR, U+FFFE, lone surrogates
# included), formula starts, error values and OOXML escapes among them
HOSTILE = st.one_of(
    st.text(st.characters(codec=None), max_size=40),
    st.text(st.characters(codec=None), max_size=40).map(lambda s: "=" + s),
    st.sampled_from(
        [
            "=1+1",
            '=HYPERLINK("http://x.example","x")',
            "+1",
            "-1",
            "@SUM(A1)",
            "#N/A",
            "#REF!",
            "_x0041_",
            "_x005F_x0041_",
            "a\r\nb",
            "\x00\x01\x1f",
            "\ufffe\uffff",
            "\ud800",
            "=" * 3,
        ]
    ),
)


def _saved(write_only: bool, texts: list[str]) -> bytes:
    wb = Workbook(write_only=write_only)
    if write_only:
        ws = wb.create_sheet("data")
        ws.append([put_value(WriteOnlyCell(ws), t, f"cell {k}") for k, t in enumerate(texts)])
    else:
        ws = wb.active
        ws.title = "data"
        for k, t in enumerate(texts, start=1):
            put_value(ws.cell(row=1, column=k), t, f"cell {k}")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize("write_only", [False, True])
@given(texts=st.lists(HOSTILE, min_size=1, max_size=5))
def test_any_text_is_written_as_text_and_reads_back_exactly(write_only: bool, texts: list[str]) -> None:
    cells = {c.ref: c for c in xml_cells(_saved(write_only, texts))}
    assert [c.formula for c in cells.values()] == [None] * len(cells)
    assert [cells[f"{get_column_letter(k + 1)}1"].kind for k in range(len(texts))] == ["inlineStr"] * len(texts)
    assert [cells[f"{get_column_letter(k + 1)}1"].text for k in range(len(texts))] == texts


def test_openpyxl_alone_makes_formulas_and_errors_of_text_which_the_writer_does_not() -> None:
    """The mechanism: openpyxl guesses from the string (the reproduction of the issue)."""
    wb = Workbook()
    ws = wb.active
    ws["A1"], ws["A2"] = "=1+1", "#N/A"
    put_value(ws["B1"], "=1+1", "B1")
    put_value(ws["B2"], "#N/A", "B2")
    buf = io.BytesIO()
    wb.save(buf)
    got = {c.ref: (c.kind, c.formula, c.text) for c in xml_cells(buf.getvalue())}
    assert got["A1"] == ("n", "1+1", None) and got["A2"][0] == "e"
    assert got["B1"] == ("inlineStr", None, "=1+1") and got["B2"] == ("inlineStr", None, "#N/A")


def test_openpyxl_cuts_long_text_silently_and_the_writer_refuses_it_naming_the_cell() -> None:
    wb = Workbook()
    ws = wb.active
    ws["A1"] = "x" * (MAX_CELL_CHARS + 10)
    assert len(ws["A1"].value) == MAX_CELL_CHARS  # openpyxl's own behaviour: cut, without a word
    put_value(ws["B1"], "x" * MAX_CELL_CHARS, "B1")  # the longest a cell holds is written whole
    assert len(ws["B1"].value) == MAX_CELL_CHARS
    with pytest.raises(LSTMError, match=r"^out\.xlsx: cell C2: the text is 32,768 characters.*at most 32,767"):
        put_value(ws["C2"], "x" * (MAX_CELL_CHARS + 1), "out.xlsx: cell C2")
    with pytest.raises(LSTMError, match=r"32,765 characters \(32,771 once its control characters are escaped\)"):
        sheet_text("\x01" + "x" * 32_764, "here")  # _x0001_ is 7 characters: the stored text would be cut
    with pytest.raises(LSTMError, match=r"32,768 characters"):
        sheet_text("😀" * 16_384, "here")  # Excel counts UTF-16 units: each emoji is two


@given(st.text(st.characters(codec=None), max_size=60))
def test_the_escape_is_undone_exactly(text: str) -> None:
    stored = sheet_text(text, "here")
    assert read_sheet_text(stored) == text
    assert not any(ord(ch) < 0x20 and ch not in "\t\n" for ch in stored)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (np.int64(3), 3),
        (np.float64(2.5), 2.5),
        (True, True),
        (None, None),
        (float("nan"), None),
        (pd.NaT, None),
        (np.datetime64("NaT"), None),
        (pd.Timestamp("2024-01-31 13:00"), dt.datetime(2024, 1, 31, 13)),
        (np.datetime64("2024-01-31"), dt.datetime(2024, 1, 31)),
        (b"caf\xc3\xa9", "café"),
    ],
)
def test_numbers_dates_and_blanks_keep_their_kind(value: object, expected: object) -> None:
    cell = Workbook().active["A1"]
    put_value(cell, value, "A1")
    assert cell.value == expected and type(cell.value) is type(expected)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (float("inf"), r"^A1: inf is not a number a worksheet cell holds"),
        (b"\xff\xfe", r"^A1: holds bytes that are not UTF-8 text"),
        (pd.Timestamp("2024-01-01", tz="UTC"), r"^A1: 2024-01-01 00:00:00\+00:00 has a time zone"),
        (object(), r"^A1: a object .* is neither text, a number nor a date"),
    ],
)
def test_what_a_cell_cannot_hold_is_refused_in_one_line(value: object, message: str) -> None:
    with pytest.raises(LSTMError, match=message):
        put_value(Workbook().active["A1"], value, "A1")


def test_our_formulas_take_their_own_path() -> None:
    ws = Workbook().active
    assert put_formula(ws["A1"], "=1+1").data_type == "f"
    with pytest.raises(ValueError, match="a formula starts with '='"):
        put_formula(ws["A2"], "1+1")


def test_display_text_holds_no_control_character_and_is_short() -> None:
    assert display_text("a\x00b\r") == "a\ufffdb\ufffd"
    assert len(display_text("y" * 1000)) == 255 and display_text("y" * 1000).endswith("…")


@pytest.mark.parametrize(
    "text", ["=1+1", '=HYPERLINK("http://x","x")', "+1", "-1", "@SUM(A1)", "#N/A", "007", "'quoted", "plain"]
)
def test_typed_text_gets_excels_text_prefix(text: str) -> None:
    """Through Excel's object model a string is read as if typed: the prefix keeps every one of them text."""
    assert typed_text(text, "Forecast Sheet: series") == "'" + text


def test_typed_text_too_long_for_a_cell_is_refused_naming_where() -> None:
    with pytest.raises(LSTMError, match=r"^Forecast Sheet: series 'x': the text is 40,000 characters"):
        typed_text("x" * 40_000, "Forecast Sheet: series 'x'")
