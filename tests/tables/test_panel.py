"""Many series in one table: long and wide files read exactly, refused in one line, forecasts written back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from tests.conftest import need
from xl_lstm.core import limits
from xl_lstm.core.errors import LSTMError
from xl_lstm.tables import sources as panel_module
from xl_lstm.tables.panel import Panel, panel_from_frame, read_panel
from xl_lstm.tables.series_file import FREQUENCIES, STEPS
from xl_lstm.tables.writers import forecast_frame_shape, future_dates, write_panel_forecasts

MONTHS = pd.date_range("2021-01-01", periods=6, freq="MS")


def save(frame: pd.DataFrame, path: Path) -> Path:
    """A frame as the file its suffix names, written the way a user's tools write it."""
    if path.suffix == ".parquet":
        need("pyarrow")
        frame.to_parquet(path, index=False)
    elif path.suffix == ".xlsx":
        frame.to_excel(path, index=False, engine="openpyxl")
    else:
        frame.to_csv(path, index=False)
    return path


def text(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def expected_long(rows: list[tuple[str, object, float]], steps: bool = False) -> pd.DataFrame:
    """unique_id, ds, y as a Panel holds them."""
    ids, ds, y = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "unique_id": pd.Series(ids, dtype=object),
            "ds": np.array(ds, dtype=np.int64) if steps else pd.to_datetime(list(ds)).as_unit("ns"),
            "y": np.array(y, dtype=np.float64),
        }
    )


def wide_frame() -> pd.DataFrame:
    """Three monthly series; 'late' starts in March, 'early' ends in April."""
    return pd.DataFrame(
        {
            "month": MONTHS,
            "north": [1.5, 2.25, 3.0, 4.0, 5.0, 6.125],
            "late": [np.nan, np.nan, 30.0, 40.0, 50.0, 60.0],
            "early": [7.0, 8.0, 9.0, 10.0, np.nan, np.nan],
        }
    )


WIDE_LONG = expected_long(
    [("early", MONTHS[k], 7.0 + k) for k in range(4)]
    + [("late", MONTHS[k], 10.0 * (k + 1)) for k in range(2, 6)]
    + [("north", MONTHS[k], v) for k, v in enumerate([1.5, 2.25, 3.0, 4.0, 5.0, 6.125])]
)


# ---- round trips ----------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_a_ragged_wide_table_reads_as_the_long_frame_of_its_series(tmp_path: Path, suffix: str) -> None:
    p = read_panel(save(wide_frame(), tmp_path / f"sales{suffix}"))
    pd.testing.assert_frame_equal(p.long, WIDE_LONG)
    assert (p.shape, p.freq_code, p.frequency) == ("wide", "MS", FREQUENCIES["M"])
    assert p.id_order == ["north", "late", "early"]
    assert p.names == {"unique_id": "unique_id", "ds": "month", "y": "y"}
    assert p.source == f"sales{suffix} (wide: 3 series, monthly)"


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_a_long_table_with_its_own_names_reads_exactly(tmp_path: Path, suffix: str) -> None:
    source = WIDE_LONG.rename(columns={"unique_id": "Store", "ds": "Week", "y": "Sales"}).iloc[::-1]  # any order
    p = read_panel(save(source, tmp_path / f"long{suffix}"), id_col="store", ds_col="week", y_col="sales")
    pd.testing.assert_frame_equal(p.long, WIDE_LONG)
    assert p.shape == "long" and p.names == {"unique_id": "Store", "ds": "Week", "y": "Sales"}
    assert p.id_order == ["north", "late", "early"]  # first appearance in the file


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_long_tables_are_found_by_the_usual_names_or_by_their_three_columns(tmp_path: Path, suffix: str) -> None:
    named = read_panel(save(WIDE_LONG.rename(columns={"unique_id": "UNIQUE_ID"}), tmp_path / f"a{suffix}"))
    three = read_panel(save(WIDE_LONG.set_axis(["shop", "day", "amount"], axis=1), tmp_path / f"b{suffix}"))
    for p in (named, three):
        pd.testing.assert_frame_equal(p.long, WIDE_LONG)
        assert p.shape == "long"
    assert three.names == {"unique_id": "shop", "ds": "day", "y": "amount"}


def test_columns_a_long_table_does_not_use_are_said() -> None:
    p = panel_from_frame(WIDE_LONG.assign(price=1.0))
    assert p.source == "the table (long: 3 series, monthly; column 'price' not used)"


def test_a_wide_frame_with_a_date_index_and_a_table_without_dates() -> None:
    indexed = panel_from_frame(wide_frame().set_index("month"), source="frame")
    pd.testing.assert_frame_equal(indexed.long, WIDE_LONG)
    assert indexed.names["ds"] == "month"
    steps = panel_from_frame(pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [np.nan, 5.0, 6.0]}))
    pd.testing.assert_frame_equal(
        steps.long,
        expected_long([("a", 1, 1.0), ("a", 2, 2.0), ("a", 3, 3.0), ("b", 2, 5.0), ("b", 3, 6.0)], steps=True),
    )
    assert (steps.frequency, steps.freq_code, steps.names["ds"]) == (STEPS, None, "step")


def test_a_wide_table_with_a_series_named_y_is_not_read_as_ids_that_are_dates() -> None:
    """month, 0, Y: the property test found it read as a long table, the months as series ids."""
    months = pd.date_range("2020-01-01", periods=8, freq="MS")
    p = panel_from_frame(pd.DataFrame({"month": months, "0": np.arange(8.0), "Y": np.arange(8.0) + 10}))
    assert (p.shape, sorted(p.id_order)) == ("wide", ["0", "Y"])
    assert p.long.groupby("unique_id").size().to_dict() == {"0": 8, "Y": 8}


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_step_numbers_are_kept_as_written(tmp_path: Path, suffix: str) -> None:
    wide = pd.DataFrame({"t": [11, 12, 13], "x": [0.5, 1.5, 2.5]})
    p = read_panel(save(wide, tmp_path / f"w{suffix}"))
    pd.testing.assert_frame_equal(p.long, expected_long([("x", 11, 0.5), ("x", 12, 1.5), ("x", 13, 2.5)], steps=True))
    assert (p.shape, p.freq_code, p.names["ds"]) == ("wide", None, "t")
    long = read_panel(
        save(pd.DataFrame({"unique_id": ["b", "a", "b"], "ds": [1, 7, 2], "y": [1.0, 2, 3]}), tmp_path / f"l{suffix}")
    )
    pd.testing.assert_frame_equal(long.long, expected_long([("a", 7, 2.0), ("b", 1, 1.0), ("b", 2, 3.0)], steps=True))


def test_csv_text_follows_the_number_rules_of_csv_column(tmp_path: Path) -> None:
    path = text(tmp_path, "s.csv", "date;a;b\n2021-01-01;1,5;-2\n2021-01-02;2,25;3e2\n2021-01-03;;4\n")
    p = read_panel(path)
    assert p.long["y"].tolist() == [1.5, 2.25, -2.0, 300.0, 4.0] and p.freq_code == "D"
    assert p.frequency == FREQUENCIES["D"]


def test_an_unnamed_date_index_written_by_pandas_is_the_date_column(tmp_path: Path) -> None:
    path = tmp_path / "i.csv"
    wide_frame().set_index("month").rename_axis(None).to_csv(path)
    p = read_panel(path)
    pd.testing.assert_frame_equal(p.long, WIDE_LONG)
    assert p.names["ds"] == "ds"


def test_a_series_of_one_or_two_dates_takes_the_tables_frequency() -> None:
    frame = pd.DataFrame(
        {
            "d": pd.date_range("2020-01-01", periods=4, freq="QS-OCT"),
            "a": [1.0, 2, 3, 4],
            "b": [np.nan, np.nan, np.nan, 9.0],
        }
    )
    p = panel_from_frame(frame)
    assert p.freq_code == "QS-JAN" and p.long.query("unique_id == 'b'")["y"].tolist() == [9.0]


# ---- errors: one line naming the file, the series, the cell or date ---------------------------------
def refused(match: str, call: Callable[..., object], *args: object, **kwargs: object) -> str:
    """The one line ``call`` refuses with; it must hold ``match``."""
    with pytest.raises(LSTMError) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    assert match in message, message
    return message


def test_unreadable_files_are_refused(tmp_path: Path) -> None:
    need("pyarrow")
    (tmp_path / "bad.xlsx").write_bytes(b"PK\x03\x04 not a zip at all")
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 this is no parquet")
    (tmp_path / "bad.csv").write_bytes(b"a,b\n\xff\xfe,1\n")
    refused("bad.xlsx: cannot read it as a workbook", read_panel, tmp_path / "bad.xlsx")
    refused("bad.parquet: cannot read it as Parquet", read_panel, tmp_path / "bad.parquet")
    refused("is not UTF-8", read_panel, tmp_path / "bad.csv")
    refused("does not exist", read_panel, tmp_path / "none.csv")
    refused("give a .csv", read_panel, text(tmp_path, "data.json", "{}"))


def test_a_named_column_that_is_not_there(tmp_path: Path) -> None:
    path = save(WIDE_LONG, tmp_path / "l.csv")
    message = refused("l.csv: no column 'store' for the series ids (id_col)", read_panel, path, id_col="store")
    assert "'unique_id', 'ds', 'y'" in message
    refused(
        "a long table needs a column for the values (y_col)",
        panel_from_frame,
        WIDE_LONG.assign(x=1, z=2).drop(columns="y"),
    )


def test_text_in_a_number_cell_is_named_by_its_cell(tmp_path: Path) -> None:
    frame = wide_frame().astype({"late": object})
    frame.loc[3, "late"] = "n/a"
    refused(
        "series 'late' at 2021-04-01, line 5, column 'late' holds 'n/a', a missing-value marker",
        read_panel,
        save(frame, tmp_path / "w.csv"),
    )
    refused("series 'late' at 2021-04-01, cell C5 holds 'n/a'", read_panel, save(frame, tmp_path / "w.xlsx"))
    long = text(tmp_path, "l.csv", "unique_id,ds,y\na,2021-01-01,1\na,2021-02-01,1.2.3\n")
    refused("series 'a' at 2021-02-01, line 3, column 'y' holds text '1.2.3', not a number", read_panel, long)


def test_a_frames_cells_are_named_by_index_and_column() -> None:
    frame = wide_frame().set_index(pd.RangeIndex(10, 16))
    frame.loc[12, "north"] = np.inf
    refused(
        "series 'north' at 2021-03-01, index 12, column 'north' holds inf, not a finite number", panel_from_frame, frame
    )
    flags = wide_frame().assign(late=[True] * 6)
    refused(
        "series 'late' at 2021-01-01, index 0, column 'late' holds True (bool), not a number", panel_from_frame, flags
    )


def test_a_csv_without_a_header_line_is_refused(tmp_path: Path) -> None:
    refused(
        "n.csv: its first line holds only numbers; add a header line", read_panel, text(tmp_path, "n.csv", "1,2\n3,4\n")
    )
    refused(
        "d.csv: its first line starts with '2021-01-01', a date",
        read_panel,
        text(tmp_path, "d.csv", "2021-01-01,5\n2021-02-01,6\n2021-03-01,7\n"),
    )


def test_dates_with_a_time_zone_keep_their_wall_time() -> None:
    frame = wide_frame().assign(month=MONTHS.tz_localize("Europe/Paris"))
    pd.testing.assert_frame_equal(panel_from_frame(frame).long, WIDE_LONG)


def test_a_blank_inside_a_series_names_its_date(tmp_path: Path) -> None:
    frame = wide_frame()
    frame.loc[2, "north"] = np.nan
    refused(
        "series 'north' has a gap at 2021-03-01 (line 4, column 'north' is empty)",
        read_panel,
        save(frame, tmp_path / "w.csv"),
    )
    refused("series 'north' has a gap at 2021-03-01 (cell B4 is empty)", read_panel, save(frame, tmp_path / "w.xlsx"))
    long = WIDE_LONG.copy()
    long.loc[1, "y"] = np.nan
    refused(
        "series 'early' has no value at 2021-02-01 (line 3, column 'y')", read_panel, save(long, tmp_path / "l.csv")
    )


def test_an_all_blank_column_or_series(tmp_path: Path) -> None:
    refused("series 'late' is blank in every row", panel_from_frame, wide_frame().assign(late=np.nan))
    long = WIDE_LONG.copy()
    long.loc[long["unique_id"] == "late", "y"] = np.nan
    refused("series 'late' has no values (its 4 rows are blank", panel_from_frame, long)


def test_two_rows_for_one_series_and_date(tmp_path: Path) -> None:
    path = text(tmp_path, "l.csv", "unique_id,ds,y\na,2021-01-01,1\nb,2021-01-01,2\na,2021-01-01,3\n")
    refused("series 'a' has two rows for 2021-01-01 (line 2 and line 4); keep one", read_panel, path)
    wide = text(tmp_path, "w.csv", "d,a\n2021-01-01,1\n2021-01-01,2\n")
    refused("w.csv: line 3, column 'd': 2021-01-01 repeats 2021-01-01 above it", read_panel, wide)


def test_dates_that_do_not_parse(tmp_path: Path) -> None:
    wide = text(tmp_path, "w.csv", "d,a\n2021-01-01,1\n2021-02-01,2\nsoon,3\n2021-04-01,4\n")
    refused("w.csv: line 4, column 'd' holds 'soon', not a date", read_panel, wide)
    long = text(tmp_path, "l.csv", "unique_id,ds,y\na,2021-01-01,1\nb,31.02.2021,2\n")
    refused("series 'b', line 3, column 'ds' holds '31.02.2021', not a date", read_panel, long)


def test_series_of_different_frequencies_or_irregular_dates(tmp_path: Path) -> None:
    months = pd.DataFrame({"unique_id": "m", "ds": pd.date_range("2021-01-01", periods=4, freq="MS"), "y": 1.0})
    weeks = pd.DataFrame({"unique_id": "w", "ds": pd.date_range("2021-01-03", periods=4, freq="W-SUN"), "y": 1.0})
    refused("series 'w' is weekly (W-SUN) but series 'm' is monthly (MS)", panel_from_frame, pd.concat([months, weeks]))
    gap = months.drop(index=2)
    refused(
        "series 'm': 2021-04-01 follows 2021-02-01, but the table is monthly (MS): the next date is 2021-03-01",
        panel_from_frame,
        pd.concat([months.assign(unique_id="a"), gap]),
    )
    odd = pd.DataFrame({"unique_id": "x", "ds": pd.to_datetime(["2021-01-01", "2021-01-02", "2021-01-09"]), "y": 1.0})
    refused(
        "series 'x': its first dates 2021-01-01, 2021-01-02, 2021-01-09 are not one step apart", panel_from_frame, odd
    )
    off = pd.concat([months, pd.DataFrame({"unique_id": "s", "ds": [pd.Timestamp("2021-02-15")], "y": [1.0]})])
    refused("series 's': 2021-02-15 is not a date of the table's monthly (MS) calendar", panel_from_frame, off)
    steps = pd.DataFrame({"unique_id": "k", "ds": [1, 2, 4], "y": 1.0})
    refused("series 'k': step 4 follows step 2; step numbers go up by 1", panel_from_frame, steps)


def test_empty_tables(tmp_path: Path) -> None:
    refused("e.csv: is empty", read_panel, text(tmp_path, "e.csv", ""))
    refused("h.csv: holds a header but no rows", read_panel, text(tmp_path, "h.csv", "d,a\n"))
    refused(
        "o.csv: series 'x' is blank in every row",
        read_panel,
        text(tmp_path, "o.csv", "d,x,z\n2021-01-01,,1\n2021-02-01,,2\n"),
    )
    refused("the table: has columns but no rows", panel_from_frame, pd.DataFrame({"a": []}))
    refused(
        "only.csv: holds dates but no series", read_panel, text(tmp_path, "only.csv", "d\n2021-01-01\n2021-02-01\n")
    )
    openpyxl.Workbook().save(tmp_path / "e.xlsx")
    refused("e.xlsx: the first sheet is empty", read_panel, tmp_path / "e.xlsx")


def test_tables_over_the_budget_are_refused_before_their_cells_are_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save(wide_frame(), tmp_path / "w.csv")
    monkeypatch.setattr(limits, "MAX_CELLS", 10)  # a CSV's text is measured against the limits themselves
    monkeypatch.setattr(panel_module, "MAX_CELLS", 10)
    refused("w.csv: line 4 takes the table to 12 cells (this line has 4 fields), over the limit of", read_panel, path)
    refused("split the table", read_panel, save(wide_frame(), tmp_path / "w.xlsx"))
    refused("6 rows x 4 columns is over the limit", panel_from_frame, wide_frame().set_index("month"))
    refused("p.parquet: 6 rows x 4 columns is over the limit", read_panel, save(wide_frame(), tmp_path / "p.parquet"))
    monkeypatch.setattr(panel_module, "MAX_FILE_BYTES", 50)
    refused("w.csv: is 0 MiB, over the limit", read_panel, path)


# ---- future dates -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "freq, start, after",
    [
        ("MS", "2021-01-01", ["2021-04-01", "2021-05-01"]),
        ("QS-OCT", "2021-01-01", ["2021-10-01", "2022-01-01"]),
        ("ME", "2021-01-31", ["2021-04-30", "2021-05-31"]),
        ("W-SUN", "2021-01-03", ["2021-01-24", "2021-01-31"]),
        ("D", "2021-02-26", ["2021-03-01", "2021-03-02"]),
    ],
)
def test_future_dates_continue_each_series(freq: str, start: str, after: list[str]) -> None:
    ds = pd.date_range(start, periods=3, freq=freq)
    p = panel_from_frame(pd.DataFrame({"d": ds, "a": [1.0, 2, 3], "b": [1.0, 2, np.nan]}))
    got = future_dates(p, 2)
    b_after = [str(d.date()) for d in pd.date_range(ds[1], periods=3, freq=freq)[1:]]
    assert got["unique_id"].tolist() == ["a", "a", "b", "b"]
    assert [str(d.date()) for d in got["ds"]] == after + b_after
    assert got["ds"].dtype == "datetime64[ns]"


def test_future_steps_and_a_bad_horizon() -> None:
    p = panel_from_frame(pd.DataFrame({"unique_id": ["a", "a", "b"], "ds": [4, 5, 1], "y": [1.0, 2, 3]}))
    got = future_dates(p, 3)
    assert got["ds"].tolist() == [6, 7, 8, 2, 3, 4] and got["ds"].dtype == np.int64
    refused("horizon must be a whole number ≥ 1 (steps ahead), got 0", future_dates, p, 0)


# ---- writing forecasts back -------------------------------------------------------------------------
def forecasts_for(p: Panel, horizon: int = 2) -> pd.DataFrame:
    """What the forecaster returns: unique_id, ds, forecast, lo-80, hi-80, lo-95, hi-95."""
    f = future_dates(p, horizon)
    base = np.arange(len(f), dtype=np.float64) + 0.25
    return f.assign(forecast=base, **{"lo-80": base - 1, "hi-80": base + 1, "lo-95": base - 2, "hi-95": base + 2})


def test_long_forecasts_keep_the_users_column_names() -> None:
    p = panel_from_frame(WIDE_LONG.rename(columns={"unique_id": "shop", "ds": "day", "y": "sales"}))
    out = forecast_frame_shape(forecasts_for(p), p)
    assert list(out.columns) == ["shop", "day", "forecast", "lo-80", "hi-80", "lo-95", "hi-95"]
    assert out["shop"].tolist() == ["early", "early", "late", "late", "north", "north"]


def test_wide_forecasts_are_one_row_per_date_and_columns_per_series() -> None:
    p = panel_from_frame(wide_frame())
    out = forecast_frame_shape(forecasts_for(p), p)
    levels = ["lo-80", "hi-80", "lo-95", "hi-95"]
    assert list(out.columns) == ["month"] + [
        f"{u}{s}" for u in ("north", "late", "early") for s in ["", *(" " + v for v in levels)]
    ]
    assert [str(d.date()) for d in out["month"]] == ["2021-05-01", "2021-06-01", "2021-07-01", "2021-08-01"]
    np.testing.assert_array_equal(out["early"], [0.25, 1.25, np.nan, np.nan])  # early's history ends in April
    np.testing.assert_array_equal(out["north hi-95"], [np.nan, np.nan, 6.25, 7.25])


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
@pytest.mark.parametrize("shape", ["long", "wide"])
def test_written_forecasts_read_back_as_they_were_shaped(tmp_path: Path, suffix: str, shape: str) -> None:
    source = wide_frame() if shape == "wide" else WIDE_LONG.rename(columns={"unique_id": "shop"})
    p = read_panel(save(source, tmp_path / f"in{suffix}"))
    expected = forecast_frame_shape(forecasts_for(p), p)
    path = write_panel_forecasts(forecasts_for(p), p, tmp_path / f"out{suffix}")
    if suffix == ".csv":
        back = pd.read_csv(path, parse_dates=["month" if shape == "wide" else "ds"])
        first = "2021-05-01,,,,,,,,,,,0.25," if shape == "wide" else "early,2021-05-01,0.25,-0.75,1.25,"
        assert path.read_text().splitlines()[1].startswith(first)  # ISO dates, blanks where a series has none
    elif suffix == ".parquet":
        back = pd.read_parquet(path)
    else:
        back = pd.read_excel(path)
        assert openpyxl.load_workbook(path)["forecasts"]["A2" if shape == "wide" else "B2"].is_date
    dates = back.columns[0 if shape == "wide" else 1]
    back[dates] = back[dates].astype("datetime64[ns]")
    assert list(back.columns)[:2] == (["month", "north"] if shape == "wide" else ["shop", "ds"])
    pd.testing.assert_frame_equal(back, expected, check_dtype=False)


def test_steps_are_written_under_step_and_the_input_is_never_overwritten(tmp_path: Path) -> None:
    path = save(pd.DataFrame({"a": [1.0, 2.0, 3.0]}), tmp_path / "in.csv")
    p = read_panel(path)
    written = write_panel_forecasts(forecasts_for(p), p, tmp_path / "out.csv")
    assert written.read_text().splitlines()[:2] == [  # one series: its forecast and bounds under their own names
        "step,forecast,lo-80,hi-80,lo-95,hi-95",
        "4,0.25,-0.75,1.25,-1.75,2.25",
    ]
    refused("is an input of this run", write_panel_forecasts, forecasts_for(p), p, path)
    refused(
        "forecasts are written as .csv, .parquet, .xlsx", write_panel_forecasts, forecasts_for(p), p, tmp_path / "o.txt"
    )
    refused("series 'zz' is not in the table", forecast_frame_shape, forecasts_for(p).assign(unique_id="zz"), p)
