"""Issue 20, item 8: a value of 1e308 (or ±inf) among values near 100 is refused by every reader, naming
file, series and cell, instead of forecasts of 4.8e55 and intervals of ±inf written as empty cells."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import need
from xl_lstm.core.errors import LSTMError
from xl_lstm.tables.inputs import as_panel
from xl_lstm.tables.magnitude import MAX_MAGNITUDE, check_finite_forecasts, first_unfit
from xl_lstm.tables.panel import panel_from_frame, read_panel, read_panel_text
from xl_lstm.tables.series_file import read_series

MONTHS = pd.date_range("2021-01-01", periods=24, freq="MS")


def values(bad: float, at: int = 5) -> list[float]:
    out = [100.0 + k % 12 for k in range(24)]
    out[at] = bad
    return out


def save_wide(path: Path, bad: float) -> Path:
    frame = pd.DataFrame({"month": MONTHS, "north": [100.0] * 24, "south": values(bad)})
    if path.suffix == ".parquet":
        need("pyarrow")
        frame.to_parquet(path, index=False)
    elif path.suffix == ".xlsx":
        frame.to_excel(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("suffix, cell", [(".csv", "line 7, column 'south'"), (".parquet", "index 5"), (".xlsx", "C7")])
@pytest.mark.parametrize("bad", [1e308, -1e308, 1e101])
def test_an_absurd_value_in_a_wide_table_is_refused_naming_file_series_and_cell(
    tmp_path: Path, suffix: str, cell: str, bad: float
) -> None:
    path = save_wide(tmp_path / f"sales{suffix}", bad)
    with pytest.raises(LSTMError) as err:
        read_panel(path)
    msg = str(err.value)
    assert msg.startswith(f"sales{suffix}: series 'south' at 2021-06-01") and cell in msg, msg
    assert f"{bad:g}" in msg and "1e+100" in msg and "\n" not in msg


def test_inf_written_as_text_or_overflowing_is_refused(tmp_path: Path) -> None:
    for text in ("inf", "-inf", "Infinity", "1e400"):
        body = "month,y\n" + "".join(f"2021-{m:02d}-01,{text if m == 4 else 100 + m}\n" for m in range(1, 13))
        (tmp_path / "t.csv").write_text(body, encoding="utf-8")
        with pytest.raises(LSTMError, match=r"t\.csv: series 'y' at 2021-04-01, line 5"):
            read_panel(tmp_path / "t.csv")


def test_a_value_at_the_bound_is_read_and_one_past_it_is_refused() -> None:
    ok = panel_from_frame(pd.DataFrame({"y": [1.0, -MAX_MAGNITUDE, 3.0]}))
    assert ok.long["y"].tolist() == [1.0, -MAX_MAGNITUDE, 3.0]
    with pytest.raises(LSTMError, match=r"series 'y' at step 2, index 1"):
        panel_from_frame(pd.DataFrame({"y": [1.0, np.nextafter(MAX_MAGNITUDE, np.inf), 3.0]}))


def test_a_long_table_with_an_absurd_value_names_series_date_and_line(tmp_path: Path) -> None:
    rows = [("a", d.date(), 100.0) for d in MONTHS] + [
        ("b", d.date(), 1e308 if k == 3 else 5.0) for k, d in enumerate(MONTHS)
    ]
    pd.DataFrame(rows, columns=["unique_id", "ds", "y"]).to_csv(tmp_path / "long.csv", index=False)
    with pytest.raises(LSTMError, match=r"long\.csv: series 'b' at 2021-04-01, line 29, column 'y' holds '1e\+308'"):
        read_panel(tmp_path / "long.csv")


@pytest.mark.parametrize(
    "data",
    [
        np.array(values(1e308)),
        pd.Series(values(1e308), index=MONTHS, name="sales"),
        {"a": [1.0, 2.0, 3.0], "b": values(np.inf)},
        pd.DataFrame({"ds": MONTHS, "y": values(-1e200)}),
        [10**400, 1, 2],
    ],
)
def test_the_python_api_refuses_absurd_values_too(data: object) -> None:
    with pytest.raises(LSTMError, match=r"the data: series '.+' at .+, (index|column).+(beyond|not a finite)"):
        as_panel(data)


def test_a_python_int_too_large_for_a_float_is_named_not_a_traceback() -> None:
    with pytest.raises(LSTMError, match=r"inf, not a finite number"):
        panel_from_frame(pd.DataFrame({"y": pd.Series([1, 10**400, 3], dtype=object)}))


def test_the_template_data_reader_refuses_an_absurd_value_in_csv(tmp_path: Path) -> None:
    body = "month,sales\n" + "".join(f"2021-{m:02d},{1e308 if m == 9 else 100 + m}\n" for m in range(1, 13))
    (tmp_path / "s.csv").write_text(body, encoding="utf-8")
    with pytest.raises(LSTMError, match=r"^s\.csv: column 'sales', line 10 holds 1e\+308, beyond"):
        read_series(tmp_path / "s.csv")


@pytest.mark.parametrize("bad", [1e308, "1e400"])
def test_the_template_data_reader_refuses_an_absurd_value_in_xlsx(tmp_path: Path, bad: object) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["month", "sales"])
    for m in range(1, 13):
        ws.append([f"2021-{m:02d}", bad if m == 4 else 100 + m])
    wb.save(tmp_path / "s.xlsx")
    with pytest.raises(LSTMError, match=r"^s\.xlsx: column 'sales', row 5 holds (1e\+308, beyond|inf, not a finite)"):
        read_series(tmp_path / "s.xlsx")


def test_first_unfit_passes_nan_as_a_blank() -> None:
    assert first_unfit(np.array([np.nan, 1.0, -1e100])) is None
    assert first_unfit(np.array([np.nan, -np.inf])) == 1


@pytest.mark.parametrize(("column", "bad"), [("lo-80", np.inf), ("lo-80", -np.inf), ("forecast", np.nan)])
def test_a_forecast_frame_with_a_non_finite_number_is_refused_in_one_line(column: str, bad: float) -> None:
    frame = pd.DataFrame(
        {"unique_id": ["a", "a", "b"], "ds": [1, 2, 1], "forecast": [1.0, 2.0, 3.0], "lo-80": [0.5, 1.5, 2.0]}
    )
    frame.loc[1, column] = bad
    with pytest.raises(LSTMError, match=rf"^out\.csv: series 'a' at 2, column '{column}' is (-?inf|nan), not a number"):
        check_finite_forecasts(frame, "out.csv")
    check_finite_forecasts(frame.fillna(0.0).replace([np.inf, -np.inf], 0.0), "out.csv")


def test_an_unknown_interval_may_be_nan() -> None:
    """No series long enough to validate on: the intervals are NaN (the notes say so), the forecasts are not."""
    frame = pd.DataFrame({"unique_id": ["a"], "ds": [1], "forecast": [1.0], "lo-80": [np.nan], "hi-80": [np.nan]})
    check_finite_forecasts(frame, "out.csv")


@settings(max_examples=150, deadline=None)
@given(st.lists(st.floats(allow_nan=False) | st.sampled_from([1e100, -1e100, 1e101, 1e308]), min_size=1, max_size=20))
def test_any_floats_are_read_exactly_or_refused_at_the_first_unfit_one(ys: list[float]) -> None:
    """A frame's column and the same numbers as CSV text (repr) give the same answer: every value as
    it is, or a refusal naming the first value beyond the bound (its index, its line)."""
    bad = next((k for k, y in enumerate(ys) if not abs(y) <= MAX_MAGNITUDE), None)
    text = "y\n" + "".join(f"{y!r}\n" for y in ys)
    if bad is None:
        assert panel_from_frame(pd.DataFrame({"y": ys})).long["y"].tolist() == ys
        assert read_panel_text(text).long["y"].tolist() == ys
        return
    with pytest.raises(LSTMError, match=rf"^the table: series 'y' at step {bad + 1}, index {bad}, column 'y' holds"):
        panel_from_frame(pd.DataFrame({"y": ys}))
    with pytest.raises(LSTMError, match=rf"^stdin: series 'y' at step {bad + 1}, line {bad + 2}, column 'y' holds"):
        read_panel_text(text)
