"""Issue 20, item 7: a formula cell whose value was never saved (openpyxl and pandas write them so) is
not a blank: the readers refuse it naming file, sheet and cell, anywhere in a column, instead of reading
"69 values" of 72 and forecasting from three months too early."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from xl_lstm.core.errors import LSTMError
from xl_lstm.tables.panel import read_panel
from xl_lstm.tables.series_file import read_series

MONTHS = pd.date_range("2020-01-01", periods=72, freq="MS")


def book(path: Path, formulas: dict[int, str], title: str = "Sales") -> Path:
    """72 monthly values in column B under 'sales', some rows (2-based sheet rows) a formula instead."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    ws.append(["month", "sales"])
    for k, d in enumerate(MONTHS):
        ws.append([d.to_pydatetime(), 100.0 + k])
    for row, formula in formulas.items():
        ws[f"B{row}"] = formula
    wb.save(path)
    return path


def with_saved_values(path: Path, saved: dict[str, str]) -> Path:
    """The same file with a saved value written into each formula cell named (as Excel would save it):
    ``{"B71": "<v>169</v>"}``, or ``t="str"`` and an empty ``<v/>`` for a formula whose value is empty text."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    for ref, value in saved.items():
        start = xml.index(f'<c r="{ref}"')
        end = xml.index("</c>", start)
        cell = xml[start:end]
        if value == "":
            cell = cell.replace(f'<c r="{ref}"', f'<c r="{ref}" t="str"', 1)
        else:
            cell = cell.replace("<v />", value).replace("<v/>", value).replace("<v></v>", value)
        xml = xml[:start] + cell + xml[end:]
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in parts.items():
            z.writestr(n, data)
    return path


@pytest.mark.parametrize("rows", [[71, 72, 73], [10], [2]])
def test_a_formula_without_a_saved_value_is_refused_naming_sheet_and_cell(tmp_path: Path, rows: list[int]) -> None:
    path = book(tmp_path / "sales.xlsx", {r: f"=B{r - 1}+1" if r > 2 else "=1+1" for r in rows})
    with pytest.raises(LSTMError) as err:
        read_panel(path)
    assert str(err.value).startswith(f"sales.xlsx: Sales!B{rows[0]} holds a formula with no saved value"), err.value
    with pytest.raises(LSTMError, match=rf"^sales\.xlsx: Sales!B{rows[0]} holds a formula with no saved value"):
        read_series(path)


def test_pandas_formulas_are_refused_too(tmp_path: Path) -> None:
    frame = pd.DataFrame({"month": MONTHS, "sales": [100.0 + k for k in range(69)] + ["=B70+1", "=B71+1", "=B72+1"]})
    frame.to_excel(tmp_path / "p.xlsx", index=False, sheet_name="Sheet1")
    with pytest.raises(LSTMError, match=r"^p\.xlsx: Sheet1!B71 holds a formula with no saved value"):
        read_panel(tmp_path / "p.xlsx")


def test_formulas_with_saved_values_are_read_as_their_values(tmp_path: Path) -> None:
    path = book(tmp_path / "s.xlsx", {71: "=B70+1", 72: "=B71+1", 73: "=B72+1"})
    with_saved_values(path, {"B71": "<v>169</v>", "B72": "<v>170</v>", "B73": "<v>171</v>"})
    p = read_panel(path)
    assert len(p.long) == 72 and p.long["y"].iloc[-3:].tolist() == [169.0, 170.0, 171.0]
    assert len(read_series(path).values) == 72


def test_a_formula_whose_saved_value_is_empty_text_is_a_blank(tmp_path: Path) -> None:
    """=IF(A74="","",...) filled down below the data: its saved value is "" (t="str"), a computed blank."""
    path = book(tmp_path / "s.xlsx", {})
    wb = openpyxl.load_workbook(path)
    wb.active["B74"] = '=IF(A74="","",A74)'
    wb.save(path)
    with_saved_values(path, {"B74": ""})
    assert len(read_panel(path).long) == 72


def test_a_sheet_name_with_a_space_is_quoted_as_excel_writes_it(tmp_path: Path) -> None:
    path = book(tmp_path / "q.xlsx", {40: "=B39+1"}, title="My Sales")
    with pytest.raises(LSTMError, match=r"^q\.xlsx: 'My Sales'!B40 holds a formula with no saved value"):
        read_panel(path)
