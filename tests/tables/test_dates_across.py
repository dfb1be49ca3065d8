"""Issue 20, item 6: a table with one row per series and the dates across the header (a pivot table)
is read as those series over those dates, not as one series per date over the store numbers; a header
of numbered columns over text ids (the M4 layout) is refused in one line saying what was seen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import need
from xl_lstm.core.errors import LSTMError
from xl_lstm.tables.panel import panel_from_frame, read_panel
from xl_lstm.tables.series_file import FREQUENCIES, read_series

MONTHS = pd.date_range("2021-01-01", periods=36, freq="MS")
STORES = [1, 2, 3, 4, 5]


def long_sales() -> pd.DataFrame:
    """Five stores' monthly sales over three years: store k's value in month m is 100 k + m."""
    return pd.DataFrame(
        {
            "store": np.repeat(STORES, len(MONTHS)),
            "month": np.tile(MONTHS, len(STORES)),
            "sales": [100.0 * s + m for s in STORES for m in range(len(MONTHS))],
        }
    )


def pivot() -> pd.DataFrame:
    return long_sales().pivot(index="store", columns="month", values="sales")


def check(p: object, ids: list[str]) -> None:
    long = p.long  # type: ignore[attr-defined]
    assert p.id_order == ids and p.freq_code == "MS" and p.frequency == FREQUENCIES["M"]  # type: ignore[attr-defined]
    for s in ids:
        one = long[long["unique_id"] == s]
        assert one["ds"].tolist() == list(MONTHS)
        assert one["y"].tolist() == [100.0 * int(s) + m for m in range(len(MONTHS))]


def test_a_pivot_table_in_csv_is_read_as_one_series_per_row(tmp_path: Path) -> None:
    frame = pivot()
    frame.columns = [d.strftime("%Y-%m") for d in frame.columns]
    frame.to_csv(tmp_path / "pivot.csv")
    p = read_panel(tmp_path / "pivot.csv")
    check(p, ["1", "2", "3", "4", "5"])
    assert p.source == "pivot.csv (dates across the header: 5 series, monthly)"
    assert (p.shape, p.names["unique_id"]) == ("long", "store")


def test_a_pivot_table_written_by_pandas_to_xlsx_is_read_as_one_series_per_row(tmp_path: Path) -> None:
    pivot().to_excel(tmp_path / "pivot.xlsx")  # the header's dates are date cells
    check(read_panel(tmp_path / "pivot.xlsx"), ["1", "2", "3", "4", "5"])


def test_a_pivot_table_in_parquet_and_as_a_frame_is_read_as_one_series_per_row(tmp_path: Path) -> None:
    check(panel_from_frame(pivot()), ["1", "2", "3", "4", "5"])
    need("pyarrow")
    frame = pivot()
    frame.columns = [str(d.date()) for d in frame.columns]
    frame.reset_index().to_parquet(tmp_path / "pivot.parquet", index=False)
    check(read_panel(tmp_path / "pivot.parquet"), ["1", "2", "3", "4", "5"])


def test_a_ragged_pivot_keeps_each_rows_span_and_refuses_a_gap_naming_the_cell(tmp_path: Path) -> None:
    body = "id,Jan 2021,Feb 2021,Mar 2021,Apr 2021\na,1,2,3,\nb,,5,6,7\n"
    (tmp_path / "r.csv").write_text(body, encoding="utf-8")
    long = read_panel(tmp_path / "r.csv").long
    assert long["y"].tolist() == [1.0, 2.0, 3.0, 5.0, 6.0, 7.0]
    assert long["ds"].dt.month.tolist() == [1, 2, 3, 2, 3, 4]
    (tmp_path / "g.csv").write_text("id,2021-01,2021-02,2021-03\na,1,,3\n", encoding="utf-8")
    with pytest.raises(LSTMError, match=r"series 'a' has a gap at 2021-02-01 \(line 2, column '2021-02' is empty\)"):
        read_panel(tmp_path / "g.csv")


@pytest.mark.parametrize(
    "body, message",
    [
        ("id,2021-01,2021-03,2021-02\na,1,2,3\n", r"must increase left to right: '2021-02' follows '2021-03'"),
        ("id,2021-01,2021-02\na,1,2\na,3,4\n", r"series 'a' is in two rows \(line 2 and line 3\)"),
        ("id,2021-01,2021-02\n,1,2\n", r"line 2, column 'id' has no series id"),
        ("id,2021-01,2021-02\na,1,x\n", r"series 'a' at 2021-02-01, line 2, column '2021-02' holds text 'x'"),
    ],
)
def test_a_bad_pivot_is_refused_in_one_line(tmp_path: Path, body: str, message: str) -> None:
    (tmp_path / "b.csv").write_text(body, encoding="utf-8")
    with pytest.raises(LSTMError, match=message):
        read_panel(tmp_path / "b.csv")


def test_the_m4_layout_of_numbered_columns_is_refused_saying_what_was_seen(tmp_path: Path) -> None:
    body = '"V1","V2","V3","V4","V5"\n"M1",1.5,2.5,3.5,\n"M2",4.0,5.0,6.0,7.0\n'
    (tmp_path / "Monthly-train.csv").write_text(body, encoding="utf-8")
    with pytest.raises(LSTMError, match=r"^Monthly-train\.csv: holds one row per series under numbered columns"):
        read_panel(tmp_path / "Monthly-train.csv")


def test_a_column_per_year_stays_a_wide_table() -> None:
    """Years as headers (2019, 2020, ...) over rows of months are series named by year, not dates across."""
    frame = pd.DataFrame({"month": range(1, 13), "2019": np.arange(12.0), "2020": np.arange(12.0) + 1})
    p = panel_from_frame(frame)
    assert p.shape == "wide" and p.id_order == ["2019", "2020"]


def test_the_template_reader_refuses_dates_across_the_header(tmp_path: Path) -> None:
    frame = pivot()
    frame.columns = [d.strftime("%Y-%m") for d in frame.columns]
    frame.to_csv(tmp_path / "pivot.csv")
    pivot().to_excel(tmp_path / "pivot.xlsx")
    for name in ("pivot.csv", "pivot.xlsx"):
        with pytest.raises(LSTMError, match=rf"^{name}: its header holds dates \('2021-01.*one row per series"):
            read_series(tmp_path / name)


def test_ids_such_as_m1_in_a_first_column_are_refused_in_one_line_not_a_traceback(tmp_path: Path) -> None:
    """'M1' reads as a date of year 1, which no datetime64[ns] holds: the cell is named, no OutOfBoundsDatetime."""
    (tmp_path / "m.csv").write_text("id,x\nM1,1\nM2,2\nM3,3\n", encoding="utf-8")
    # pandas 3 reads 'M1' as a date, pandas 2.2 as text: either way one line naming the cell
    with pytest.raises(
        LSTMError, match=r"^m\.csv: (series 'id' at step 1, )?line 2, column 'id' holds (text )?'M1', not a"
    ):
        read_panel(tmp_path / "m.csv")


def test_dates_across_without_an_id_column_are_refused() -> None:
    frame = pivot().reset_index(drop=True)  # the stores' ids dropped: every header a date
    with pytest.raises(LSTMError, match=r"^the table: every column's header is a date .* no column names the series"):
        panel_from_frame(frame)
