"""Series ids and headers written out exactly: text in .xlsx is a string cell (never a formula, an
error value or cut short), .csv and .parquet keep it as it came (CSV is data: no quote is added
before "=", see docs/safety.md), and what a cell cannot hold is refused in one line naming it."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.sheet_xml import column, xml_cells
from xl_lstm.core.errors import LSTMError
from xl_lstm.tables.panel import Panel, panel_from_frame
from xl_lstm.tables.writers import future_dates, table_writer, write_panel_forecasts

# an id as a user's table may hold it: any characters, formula starts, error values, OOXML escapes
ID = st.one_of(
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=30),
    st.text(st.characters(codec="utf-8"), max_size=30).map(lambda s: "=" + s),
    st.sampled_from(
        ['=HYPERLINK("http://x.example","x")', "=1+1", "+1", "-1", "@SUM(A1)", "#N/A", "_x0041_", "a\r\nb", "\x01"]
    ),
).filter(lambda s: s.strip() != "" and s == s.strip())  # the readers strip ids and refuse blank ones
IDS = st.lists(ID, min_size=1, max_size=3, unique=True)
DATES = pd.date_range("2020-01-01", periods=6, freq="MS")


def _long(ids: list[str]) -> Panel:
    frame = pd.DataFrame(
        {"unique_id": np.repeat(ids, len(DATES)), "ds": np.tile(DATES, len(ids)), "y": np.arange(6.0 * len(ids))}
    )
    return panel_from_frame(frame)


def _wide(ids: list[str]) -> Panel:
    frame = pd.DataFrame({i: np.arange(6.0) + k for k, i in enumerate(ids)}, index=DATES)
    frame.index.name = "month"
    return panel_from_frame(frame)


def _forecasts(panel: Panel) -> pd.DataFrame:
    out = future_dates(panel, 2)
    out["forecast"], out["lo-80"] = 1.5, np.nan
    return out


def _written(panel: Panel, path: Path) -> Path:
    if path.exists():
        path.unlink()
    return write_panel_forecasts(_forecasts(panel), panel, path)


def _csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


@pytest.mark.slow
@given(ids=IDS)
def test_long_ids_are_text_cells_and_come_back_exactly(
    tmp_path_factory: pytest.TempPathFactory, ids: list[str]
) -> None:
    panel, out = _long(ids), tmp_path_factory.mktemp("long")
    cells = xml_cells(_written(panel, out / "f.xlsx"))
    assert [c.ref for c in cells if c.formula is not None] == []
    id_cells = column(cells, "forecasts", "A")[1:]
    assert {c.kind for c in id_cells} == {"inlineStr"}
    assert [c.text for c in id_cells] == list(np.repeat(sorted(ids), 2))
    assert [r[0] for r in _csv_rows(_written(panel, out / "f.csv"))[1:]] == list(np.repeat(sorted(ids), 2))
    back = pd.read_parquet(_written(panel, out / "f.parquet"))
    assert back["unique_id"].tolist() == list(np.repeat(sorted(ids), 2))


@pytest.mark.slow
@given(ids=IDS)
def test_wide_headers_are_text_cells_and_come_back_exactly(
    tmp_path_factory: pytest.TempPathFactory, ids: list[str]
) -> None:
    panel, out = _wide(ids), tmp_path_factory.mktemp("wide")
    cells = xml_cells(_written(panel, out / "f.xlsx"))
    assert [c.ref for c in cells if c.formula is not None] == []
    head = [c for c in cells if c.ref.endswith("1") and c.ref.rstrip("0123456789") and c.ref[-2].isalpha()]
    expected = (
        ["month", *(f"{i}{v}" for i in ids for v in ("", " lo-80"))] if len(ids) > 1 else ["month", "forecast", "lo-80"]
    )
    assert {c.kind for c in head} == {"inlineStr"}
    assert [c.text for c in head] == expected
    assert _csv_rows(_written(panel, out / "f.csv"))[0] == expected
    assert list(pd.read_parquet(_written(panel, out / "f.parquet")).columns) == expected


def test_the_issues_ids_are_no_longer_formulas_nor_errors(tmp_path: Path) -> None:
    """The reproduction: '=HYPERLINK(...)' was written as <f>HYPERLINK(...)</f>, '=1+1' showed 2, '#N/A' an error."""
    ids = ['=HYPERLINK("http://x.example","x")', "=1+1", "#N/A"]
    cells = xml_cells(_written(_long(ids), tmp_path / "f.xlsx"))
    shown = {c.text for c in column(cells, "forecasts", "A")[1:]}
    assert shown == set(ids) and all(c.formula is None for c in cells)


def test_an_id_longer_than_a_cell_is_refused_naming_its_cell(tmp_path: Path) -> None:
    long_id = "s" * 40_000
    panel = _long(["a", long_id])
    with pytest.raises(
        LSTMError,
        match=r"^f\.xlsx: cell A4: the text is 40,000 characters, .* at most 32,767; it would be cut; write the forecasts as \.csv or \.parquet",
    ):
        _written(panel, tmp_path / "f.xlsx")
    assert not (tmp_path / "f.xlsx").exists()  # nothing half-written
    assert _csv_rows(_written(panel, tmp_path / "f.csv"))[-1][0] == long_id  # CSV keeps it whole
    with pytest.raises(LSTMError, match=r"^f\.xlsx: cell D1: the text is 40,000 characters"):
        _written(_wide(["a", long_id]), tmp_path / "f.xlsx")


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_reads_the_ids_back_as_written(tmp_path: Path) -> None:
    """An independent reader: LibreOffice opens the .xlsx (recalculating) and saves it as CSV."""
    from tests.libreoffice import soffice

    ids = ['=HYPERLINK("http://x.example","x")', "=1+1", "#N/A", "_x0041_", "a\x01b", "a\rb", "@x", "-2"]
    src = _written(_long(ids), tmp_path / "f.xlsx")
    import subprocess

    profile = tmp_path / "profile"
    subprocess.run(
        [
            soffice(),
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76",
            "--outdir",
            str(tmp_path / "lo"),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    rows = _csv_rows(tmp_path / "lo" / "f.csv")
    assert [r[0] for r in rows[1:]] == list(np.repeat(sorted(ids), 2))


def test_an_infinite_number_is_refused_naming_its_cell(tmp_path: Path) -> None:
    """openpyxl wrote <v>inf</v>, which no spreadsheet reads as a number."""
    panel = _long(["a"])
    table = _forecasts(panel)
    table.loc[1, "lo-80"] = -np.inf
    with pytest.raises(LSTMError, match=r"^f\.xlsx: series 'a' at .*, column 'lo-80' is -inf, not a number"):
        write_panel_forecasts(table, panel, tmp_path / "f.xlsx")  # the forecasts' own guard names the series
    assert not (tmp_path / "f.xlsx").exists()
    path = tmp_path / "g.xlsx"
    with pytest.raises(LSTMError, match=r"^g\.xlsx: cell D3: -inf is not a number a worksheet cell holds$"):
        table_writer(path, table)(io.BytesIO())  # any table written as .xlsx: the cell writer names the cell
