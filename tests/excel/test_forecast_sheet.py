"""The Forecast Sheet script, run as xlwings Lite runs it: xlwings' own ``custom_scripts_call`` against an
``xw.Book(json=...)`` holding a selection, in a CPython with Lite's environment (tests/pyodide/lite.py,
``runner.run_in_cpython``; tests/excel/test_pyodide.py runs the same books in Pyodide). What is checked is
what Lite would send back to Excel: the queued actions (a new sheet, the values written at their
addresses, the chart) against numbers computed here with the public API and the metrics' formulas.

Every run passes the script's ``updates`` argument as 50 training updates per LSTM (the default is 400):
the same forecaster, trained less, so that the tests take seconds; the API is called with the same setting.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

import xl_lstm as xl
from tests.pyodide import runner
from tests.pyodide.runner import selection_book
from xl_lstm.excel.forecast_sheet import SheetSettings, forecast_sheet, new_sheet_name
from xl_lstm.forecasting.auto import AutoConfig
from xl_lstm.forecasting.metrics import seasonal_naive
from xl_lstm.tables.datasets import load_airpassengers

TEXT = "'"  # Excel's text prefix, before every cell of words from the data (core.sheet_cells.typed_text)
UPDATES = 50  # the script's `updates` argument in every run (the forecaster's default is 400)
ARGS = [0, UPDATES]  # horizon 0: from the dates' frequency (12 for months)
PRETRAINED_ARGS = [0, 0, True]  # the shipped pretrained members: nothing trained
PASSENGERS = load_airpassengers().iloc[:48]  # 1949-01 .. 1952-12
DATES = [p.to_timestamp().to_pydatetime() for p in PASSENGERS.index]
VALUES = PASSENGERS.to_numpy()


def office_date(d: dt.datetime) -> str:
    """A date cell as Office.js sends it to xlwings."""
    return d.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def wide_rows(top: int = 3, left: int = 2) -> list[list[Any]]:
    """A sheet's cells from A1 with the table month | passengers at row ``top``, column ``left``."""
    pad = [""] * (left - 1)
    rows: list[list[Any]] = [[""] * (left + 1) for _ in range(top - 1)]
    rows.append([*pad, "month", "passengers"])
    rows += [[*pad, office_date(d), float(v)] for d, v in zip(DATES, VALUES, strict=True)]
    return rows


HOSTILE_IDS = ('=HYPERLINK("http://example.com","x")', "007")  # a formula, and text Excel would make a number


def long_rows(ids: tuple[str, str] = ("air", "twice")) -> list[list[Any]]:
    """unique_id | ds | y: two series, the passengers and the same doubled plus 10."""
    rows: list[list[Any]] = [["unique_id", "ds", "y"]]
    for uid, ys in zip(ids, (VALUES, 2 * VALUES + 10), strict=True):
        rows += [[uid, office_date(d), float(v)] for d, v in zip(DATES, ys, strict=True)]
    return rows


def edited(rows: list[list[Any]], r: int, c: int, value: Any) -> list[list[Any]]:
    """rows with the cell at sheet row r, column c (1-based) set to value (the row widened with blanks)."""
    out = [list(row) for row in rows]
    out[r - 1] += [""] * (c - len(out[r - 1]))
    out[r - 1][c - 1] = value
    return out


OTHER = [["notes"], ["the data are on the next sheet"]]
BOOKS = {
    "wide": selection_book({"Notes": OTHER, "Data": wide_rows()}, "B3:C51", active="Data"),
    "long": selection_book({"Data": long_rows()}, "A1:C97"),
    "formula-ids": selection_book({"Data": long_rows(HOSTILE_IDS)}, "A1:C97"),
    "name-taken": selection_book({"Data": wide_rows(1, 1), "Forecast Sheet": [["an older one"]]}, "A1:B49"),
}
REFUSALS = {
    "text": (
        selection_book({"Data": edited(wide_rows(), 17, 3, "n/a")}, "B3:C51"),
        "LSTMError: Data!B3:C51: series 'passengers' at 1950-02-01, cell C17 holds 'n/a', a missing-value marker, "
        "not a number; fix it (or leave it empty before the series starts or after it ends)",
    ),
    "blank-inside": (
        selection_book({"Data": edited(wide_rows(), 30, 3, "")}, "B3:C51"),
        "LSTMError: Data!B3:C51: series 'passengers' has a gap at 1951-03-01 (cell C30 is empty) inside the series; "
        "fill it (only cells before its first value or after its last may be empty)",
    ),
    "one-row": (
        selection_book({"Data": wide_rows()}, "B3:C4"),
        "LSTMError: Data!B3:C4: every series has fewer than 3 dates (the table 1); the frequency cannot be told: "
        "give at least 3 dates",
    ),
    "one-value-no-dates": (
        selection_book({"Data": [["sales"], [12.0]]}, "A1:A2"),
        "LSTMError: no series to fit on: every one was refused, e.g. series 'sales' has 1 values; "
        "the forecaster needs at least 5",
    ),
    "no-header": (
        selection_book({"Data": wide_rows()}, "B4:C51"),
        "LSTMError: Data!B4:C51: row 4, the first selected, holds no column names, only numbers or dates; "
        "select the header row (e.g. month | sales) with the table",
    ),
    "header-twice": (
        selection_book({"Data": edited(edited(wide_rows(1, 1), 1, 3, "month"), 2, 3, 1.0)}, "A1:C49"),
        "LSTMError: Data!A1:C49: two columns are named 'month'; give every column its own name",
    ),
}
RUNS = [
    *({"name": "lstm_forecast_sheet", "book": b, "args": ARGS} for b in BOOKS.values()),
    *({"name": "lstm_forecast_sheet", "book": b, "args": ARGS} for b, _ in REFUSALS.values()),
]
NAMES = [*BOOKS, *REFUSALS]


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    """Each run's result (the actions queued, or the refusal) on CPython with Lite's environment."""
    response = runner.run_in_cpython({"scripts": RUNS})
    return dict(zip(NAMES, response["scripts"]["results"], strict=True))


# ---- reading the actions back ----------------------------------------------------------------------------
def written(actions: list[dict[str, Any]], sheet: int) -> dict[tuple[int, int], list[list[Any]]]:
    """(row, column), 1-based -> the values of each setValues action on sheet position ``sheet``."""
    out = {}
    for a in actions:
        if a["func"] == "setValues":
            assert a["sheet_position"] == sheet, a
            out[(a["start_row"] + 1, a["start_column"] + 1)] = a["values"]
    return out


def api_forecast(series: dict[str, np.ndarray], start: str = "scratch") -> xl.Forecasts:
    """What xl.fit and xl.forecast give for these monthly series (from 1949-01), with the script's settings."""
    index = pd.DatetimeIndex(DATES)
    data = {k: pd.Series(y, index=index) for k, y in series.items()}
    return xl.forecast(xl.fit(data, 12, updates=UPDATES, start=start))


def smape_by_hand(a: np.ndarray, p: np.ndarray) -> float:
    return float(100 * np.mean(2 * np.abs(a - p) / (np.abs(a) + np.abs(p))))


def mase_by_hand(a: np.ndarray, p: np.ndarray, train: np.ndarray, m: int) -> float:
    return float(np.mean(np.abs(a - p)) / np.mean(np.abs(train[m:] - train[:-m])))


def check_forecast_table(
    cells: list[list[Any]],
    want: xl.Forecasts,
    ids: list[str],
    date_name: str,
    rtol: float = 1e-12,
    width_rtol: float | None = None,
) -> None:
    """series | date | forecast | lo-80 | hi-80 | lo-95 | hi-95: the API's numbers (to rtol), ordered
    intervals; with ``width_rtol``, each bound's distance from the forecast (the half-width) to that."""
    assert cells[0] == ["series", TEXT + date_name, "forecast", "lo-80", "hi-80", "lo-95", "hi-95"]
    body = cells[1:]
    assert [r[0] for r in body] == [TEXT + u for u in ids for _ in range(12)]
    future = [f"{1953 + k // 12}-{k % 12 + 1:02d}-01" for k in range(12)]  # the 12 months after 1952-12
    assert [r[1] for r in body] == future * len(ids)
    got = np.array([r[2:] for r in body], dtype=float)  # (series x 12, 5)
    assert np.isfinite(got).all()
    lo95, lo80, f, hi80, hi95 = got[:, 3], got[:, 1], got[:, 0], got[:, 2], got[:, 4]
    assert (lo95 <= lo80).all() and (lo80 <= f).all() and (f <= hi80).all() and (hi80 <= hi95).all()
    for k, uid in enumerate(ids):
        r = want[uid]
        block = got[12 * k : 12 * (k + 1)]
        np.testing.assert_allclose(block[:, 0], r.mean, rtol=rtol)
        for j, (lo, hi) in enumerate(((r.lower[0.8], r.upper[0.8]), (r.lower[0.95], r.upper[0.95]))):
            if width_rtol is None:
                np.testing.assert_allclose(block[:, 1 + 2 * j], lo, rtol=rtol)
                np.testing.assert_allclose(block[:, 2 + 2 * j], hi, rtol=rtol)
            else:
                np.testing.assert_allclose(block[:, 0] - block[:, 1 + 2 * j], r.mean - lo, rtol=width_rtol)
                np.testing.assert_allclose(block[:, 2 + 2 * j] - block[:, 0], hi - r.mean, rtol=width_rtol)


def check_accuracy(cells: list[list[Any]], series: dict[str, np.ndarray], rtol: float = 1e-9) -> None:
    """series | held out | sMAPE % | MASE | seasonal naive sMAPE % | MASE: the last 12 months held out, the
    forecaster fitted on the 36 before (the API), seasonal naive = the 12 months before them; by hand."""
    assert cells[0] == ["series", "held out", "sMAPE %", "MASE", "seasonal naive sMAPE %", "seasonal naive MASE"]
    index = pd.DatetimeIndex(DATES[:36])
    cut = xl.forecast(xl.fit({k: pd.Series(y[:36], index=index) for k, y in series.items()}, 12, updates=UPDATES))
    assert [r[0] for r in cells[1:]] == [TEXT + k for k in series]
    for row in cells[1:]:
        uid = row[0].removeprefix(TEXT)
        y = series[uid]
        train, actual, naive = y[:36], y[36:], y[24:36]
        predicted = cut[uid].mean
        want = [
            smape_by_hand(actual, predicted),
            mase_by_hand(actual, predicted, train, 12),
            smape_by_hand(actual, naive),
            mase_by_hand(actual, naive, train, 12),
        ]
        assert row[1] == 12
        np.testing.assert_allclose(np.array(row[2:], dtype=float), want, rtol=rtol)
        assert row[2] < row[4], "the forecaster beats seasonal naive on the air passengers' fourth year"


# ---- the runs ----------------------------------------------------------------------------------------------
def test_wide_selection_gets_a_new_sheet_with_the_forecasts(results: dict[str, Any]) -> None:
    """A selection at B3 on the second sheet: a sheet "Forecast Sheet" added after the last, the forecast
    table at A4 equal to the API's, the accuracy at I4, the choices and notes under it."""
    res = results["wide"]
    assert "raised" not in res, res
    actions = res["actions"]
    assert actions[0]["func"] == "addSheet" and actions[0]["args"] == [2, "Forecast Sheet"]
    cells = written(actions, 2)
    assert cells[(1, 1)] == [[TEXT + "Forecast Sheet: Data!B3:C51"]]
    want = api_forecast({"passengers": VALUES})
    check_forecast_table(cells[(4, 1)], want, ["passengers"], "month")
    check_accuracy(cells[(4, 9)], {"passengers": VALUES})
    fitted = xl.fit({"passengers": pd.Series(VALUES, index=pd.DatetimeIndex(DATES))}, 12, updates=UPDATES)
    prep = fitted.model.preps["passengers"]
    assert cells[(7, 9)] == [
        ["series", "values", "log", "season"],
        [TEXT + "passengers", 48, "yes" if prep.log else "no", prep.season],
    ]
    assert all(r[0].startswith(TEXT) for r in cells[(10, 9)])
    notes = [r[0].removeprefix(TEXT) for r in cells[(10, 9)]]
    assert notes[0] == "read Data!B3:C51 (wide: 1 series, monthly)"
    assert f"chose: {fitted.model.describe()}" in notes
    assert any(n.startswith("held out the last 12 values of each series") for n in notes)
    assert notes[-1] == f"made by xl_lstm {xl.__version__}"


def test_wide_selection_gets_a_line_chart_of_history_forecast_and_bounds(results: dict[str, Any]) -> None:
    """The chart data at P3 (name; date | actual | forecast | lower 95% | upper 95%), the chart made from its
    value columns with the dates as its x axis, titled by the series."""
    actions = results["wide"]["actions"]
    data = written(actions, 2)[(3, 16)]
    assert data[0][0] == TEXT + "passengers" and data[1] == ["date", "actual", "forecast", "lower 95%", "upper 95%"]
    rows = data[2:]
    assert len(rows) == 48 + 12
    assert [r[1] for r in rows[:48]] == VALUES.tolist()
    assert rows[47][2:] == [VALUES[-1]] * 3  # the lines meet at the last actual
    want = api_forecast({"passengers": VALUES})["passengers"]
    np.testing.assert_allclose([r[2] for r in rows[48:]], want.mean, rtol=1e-12)
    np.testing.assert_allclose([r[3] for r in rows[48:]], want.lower[0.95], rtol=1e-12)
    np.testing.assert_allclose([r[4] for r in rows[48:]], want.upper[0.95], rtol=1e-12)
    charts = [a for a in actions if a["func"].startswith(("addChart", "setChart"))]
    assert [a["func"] for a in charts] == ["addChart", "setChartXAxisValues", "setChartTitle"]
    add = charts[0]["args"]
    assert add[1:4] == ["Line", "Forecast Sheet", "$Q$4:$T$64"] and add[8] == "Columns"
    assert charts[1]["args"] == [0, "Forecast Sheet", "$P$5:$P$64"]
    assert charts[2]["args"] == [0, "passengers"]


def test_long_selection_forecasts_every_series(results: dict[str, Any]) -> None:
    """unique_id, ds, y: both series forecast as the API forecasts them together; one chart each."""
    res = results["long"]
    assert "raised" not in res, res
    actions = res["actions"]
    assert actions[0]["args"] == [1, "Forecast Sheet"]
    cells = written(actions, 1)
    series = {"air": VALUES, "twice": 2 * VALUES + 10}
    check_forecast_table(cells[(4, 1)], api_forecast(series), ["air", "twice"], "ds")
    check_accuracy(cells[(4, 9)], series)
    assert [a["args"][3] for a in actions if a["func"] == "addChart"] == ["$Q$4:$T$64", "$W$4:$Z$64"]


def test_ids_that_excel_would_read_as_a_formula_or_a_number_stay_text(results: dict[str, Any]) -> None:
    """A series named =HYPERLINK(...) or 007 is written with Excel's text prefix in every block (table,
    accuracy, choices, chart data): Excel shows the id and runs nothing. No string written starts with a
    character Excel would take as a formula."""
    res = results["formula-ids"]
    assert "raised" not in res, res
    cells = written(res["actions"], 1)
    series = dict(zip(HOSTILE_IDS, (VALUES, 2 * VALUES + 10), strict=True))
    check_forecast_table(cells[(4, 1)], api_forecast(series), list(HOSTILE_IDS), "ds")
    check_accuracy(cells[(4, 9)], series)
    strings = [v for block in cells.values() for row in block for v in row if isinstance(v, str)]
    assert not [v for v in strings if v.startswith(("=", "+", "-", "@", "#"))]
    assert {TEXT + u for u in HOSTILE_IDS} <= set(strings)


def test_a_taken_name_gets_the_next_number(results: dict[str, Any]) -> None:
    """A book that has a "Forecast Sheet" gets "Forecast Sheet 2"; nothing is written on the old one."""
    actions = results["name-taken"]["actions"]
    assert actions[0]["func"] == "addSheet" and actions[0]["args"] == [2, "Forecast Sheet 2"]
    assert {a["sheet_position"] for a in actions[1:]} == {2}


@pytest.mark.parametrize("name", list(REFUSALS))
def test_bad_selections_stop_with_one_line_and_write_nothing(results: dict[str, Any], name: str) -> None:
    """Text in a number cell, a blank inside, one row, one value, no header, a header named twice: the
    package's one line, naming the cell at its sheet address, and no sheet added."""
    res = results[name]
    assert res["raised"] == REFUSALS[name][1]
    assert "\n" not in res["raised"]
    assert res["actions"] == []


def test_timing_is_printed(results: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    """Seconds per run on CPython (fit and held-out fit, 50 updates; a test does not assert speed)."""
    line = ", ".join(f"{k} {results[k]['seconds']:.2f} s" for k in BOOKS)
    assert all(math.isfinite(results[k]["seconds"]) for k in BOOKS)
    with capsys.disabled():
        print(f"\nForecast Sheet on CPython (updates={UPDATES}): {line}")


# ---- the pieces, without a workbook -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("taken", "name"),
    [
        (["Sheet1"], "Forecast Sheet"),
        (["Sheet1", "forecast sheet"], "Forecast Sheet 2"),  # Excel's names ignore case
        (["Forecast Sheet", "Forecast Sheet 2", "Forecast Sheet 4"], "Forecast Sheet 3"),
    ],
)
def test_new_sheet_name_never_takes_a_name_in_use(taken: list[str], name: str) -> None:
    assert new_sheet_name(taken) == name


def test_settings_from_the_scripts_arguments() -> None:
    """0 means the default; anything but a whole number in range is one line naming the argument."""
    assert SheetSettings.of(0, 0) == SheetSettings()
    assert SheetSettings.of(24, 50) == SheetSettings(24, AutoConfig(updates=50))
    assert SheetSettings.of(0, 0, True) == SheetSettings(None, AutoConfig(start="pretrained"))
    with pytest.raises(xl.LSTMError, match=r"^pretrained must be True or False, got 'yes'$"):
        SheetSettings.of(0, 0, "yes")  # type: ignore[arg-type]
    with pytest.raises(xl.LSTMError, match=r"^horizon must be a whole number from 0 to 10000 \(0: from the dates"):
        SheetSettings.of(-1, 0)
    with pytest.raises(
        xl.LSTMError, match=r"^updates must be a whole number ≥ 0 \(0: the forecaster's default\), got 2.5"
    ):
        SheetSettings.of(0, 2.5)  # type: ignore[arg-type]


def test_seasonal_naive_repeats_the_last_season() -> None:
    y = np.arange(1.0, 11.0)  # 1 .. 10
    np.testing.assert_array_equal(seasonal_naive(y, 4, 6), [7, 8, 9, 10, 7, 8])
    np.testing.assert_array_equal(seasonal_naive(y, 1, 3), [10, 10, 10])
    with pytest.raises(xl.LSTMError, match="at least season = 12 numbers"):
        seasonal_naive(y, 12, 3)


def test_a_user_horizon_is_forecast_and_the_hold_out_stays_the_frequencys() -> None:
    """horizon 18 on 48 months: 18 rows of forecasts, the last 12 months still held out for the accuracy;
    the pure function, the cells given as xlwings hands them over (dates as datetimes, blanks as None)."""
    rows = [["month", "passengers"], *([d, float(v)] for d, v in zip(DATES, VALUES, strict=True))]
    content = forecast_sheet("Data!A1:B49", rows, settings=SheetSettings(18, AutoConfig(updates=UPDATES)))
    assert len(content.blocks["forecasts"].values) == 1 + 18
    assert content.accuracy["passengers"].held_out == 12
    assert content.blocks["forecasts"].values[-1][1] == dt.datetime(1954, 6, 1)
