"""xl.fit and xl.forecast: every kind of input becomes a panel, one result type (Forecasts), and
``xl-lstm forecast`` gives the same numbers in the table's shape."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import xl_lstm as xl
from tests.forecasting.test_auto import FAST, seasonal_panel
from tests.limited import xl_lstm
from xl_lstm.core.errors import LSTMError
from xl_lstm.forecasting.panels import Fitted, Forecasts


def forecast_frame(df: pd.DataFrame, horizon: int, levels: tuple[float, ...] = (0.8, 0.95), **kw: object) -> Forecasts:
    return xl.forecast(xl.fit(df, horizon, **kw), levels=levels)  # type: ignore[arg-type]


def monthly_long(n_series: int = 6, n: int = 48) -> pd.DataFrame:
    dates = pd.date_range("2020-01-01", periods=n, freq="MS")
    return pd.DataFrame(
        [
            {"unique_id": k, "ds": d, "y": v}
            for k, y in seasonal_panel(n_series, n).items()
            for d, v in zip(dates, y, strict=True)
        ]
    )


def test_a_long_frame_gives_long_forecasts_with_dates_and_intervals() -> None:
    df = monthly_long()
    result = forecast_frame(df, 6, (0.8, 0.95), **FAST)
    t = result.table
    assert list(t.columns) == ["unique_id", "ds", "forecast", "lo-80", "hi-80", "lo-95", "hi-95"]
    assert len(t) == 6 * 6 and list(t["unique_id"].unique()) == [f"s{k}" for k in range(6)]
    assert (t["ds"].iloc[:6] == pd.date_range("2024-01-01", periods=6, freq="MS")).all()  # after Dec 2023
    assert (
        (t["lo-95"] <= t["lo-80"]).all() and (t["lo-80"] < t["forecast"]).all() and (t["forecast"] < t["hi-80"]).all()
    )
    fitted = xl.fit(df, 6, **FAST)
    assert all(p.season == 12 for p in fitted.model.preps.values())  # the season from the monthly dates
    assert result.notes[0].startswith("chose: 6 series: log for 6, season 12 for 6; damping φ=")


def test_the_cli_writes_a_wide_table_back_wide_with_the_python_numbers(tmp_path: Path) -> None:
    df = monthly_long(3)
    wide = df.pivot(index="ds", columns="unique_id", values="y").rename_axis("month").reset_index()
    wide["month"] = wide["month"].dt.strftime("%Y-%m-%d")
    data, out = tmp_path / "sales.csv", tmp_path / "forecasts.csv"
    wide.to_csv(data, index=False)
    settings = ["--updates", str(FAST["updates"]), "--members", "1", "--hidden", str(FAST["hidden"])]
    proc = xl_lstm("forecast", str(data), "--horizon", "4", "--output", str(out), *settings)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"wrote {out}: 12 forecasts of 3 series"
    assert any(line.startswith("xl-lstm: chose: 3 series") for line in proc.stderr.splitlines())
    back = pd.read_csv(out)
    assert list(back.columns) == ["month"] + [
        f"s{k}{c}" for k in range(3) for c in ("", " lo-80", " hi-80", " lo-95", " hi-95")
    ]
    assert list(back["month"]) == ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"]
    py = forecast_frame(df, 4, **FAST).table
    for k in range(3):
        np.testing.assert_allclose(back[f"s{k}"], py.loc[py["unique_id"] == f"s{k}", "forecast"], rtol=1e-12)
        np.testing.assert_allclose(back[f"s{k} hi-95"], py.loc[py["unique_id"] == f"s{k}", "hi-95"], rtol=1e-12)


def test_the_cli_refuses_a_broken_table_in_one_line(tmp_path: Path) -> None:
    data = tmp_path / "long.csv"
    data.write_text("unique_id,ds,y\na,2020-01-01,1\na,2020-02-01,oops\na,2020-03-01,3\n")
    proc = xl_lstm("forecast", str(data))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "oops" in proc.stderr and "Traceback" not in proc.stderr


def test_a_series_the_forecaster_refuses_is_one_line_and_the_others_go_on() -> None:
    df = monthly_long(4)
    flat = df[df["unique_id"] == "s0"].assign(unique_id="flat", y=5.0)
    result = forecast_frame(pd.concat([df, flat], ignore_index=True), 6, **FAST)
    assert list(result.refused) == ["flat"] and "is constant" in result.refused["flat"]
    assert "\n" not in result.refused["flat"]
    without = forecast_frame(df, 6, **FAST).table  # the others: the numbers of a table without it
    pd.testing.assert_frame_equal(result.table, without, check_exact=True)


def test_the_fit_sample_fits_on_some_series_and_forecasts_all() -> None:
    df = monthly_long(6)
    fitted = xl.fit(df, 6, sample=3, **FAST)
    result = xl.forecast(fitted)
    assert fitted.model.describe().startswith("3 series:") and result.table["unique_id"].nunique() == 6
    assert result.notes[0].startswith("chose: 3 series:")


# ---- every kind of input, one result --------------------------------------------------------------
def test_a_series_a_list_a_mapping_and_a_frame_are_one_panel_and_one_result_type() -> None:
    y = seasonal_panel(1, 48)["s0"]
    months = pd.period_range("2020-01", periods=48, freq="M")
    dated = xl.forecast(xl.fit(pd.Series(y, index=months, name="sales"), 6, **FAST))
    assert isinstance(dated, Forecasts) and list(dated) == ["sales"]
    assert list(dated.table["ds"]) == list(pd.date_range("2024-01-01", periods=6, freq="MS"))  # after Dec 2023
    frame = xl.forecast(xl.fit(pd.DataFrame({"sales": y}, index=months.to_timestamp()), 6, **FAST))
    pd.testing.assert_frame_equal(dated.table, frame.table, check_exact=True)  # the same panel, the same numbers
    plain = xl.forecast(xl.fit(y, 6, **FAST))
    assert list(plain) == ["series"] and list(plain.table["ds"]) == list(range(49, 55))  # steps after 1..48
    listed = xl.forecast(xl.fit([y, y[:40]], 6, **FAST))
    assert list(listed) == ["0", "1"] and list(listed.table["ds"].iloc[6:]) == list(range(41, 47))
    mapped = xl.forecast(xl.fit({"0": y, "1": y[:40]}, 6, **FAST))
    pd.testing.assert_frame_equal(listed.table, mapped.table, check_exact=True)


def test_the_python_twin_holds_the_tables_numbers() -> None:
    fitted = xl.fit(monthly_long(2), 4, **FAST)
    assert isinstance(fitted, Fitted) and fitted.horizon == 4
    result = xl.forecast(fitted, levels=(0.5, 0.9))
    t = result.table[result.table["unique_id"] == "s1"]
    s1 = result["s1"]
    np.testing.assert_array_equal(s1.mean, t["forecast"].to_numpy())
    np.testing.assert_array_equal(s1.lower[0.9], t["lo-90"].to_numpy())
    np.testing.assert_array_equal(s1.upper[0.5], t["hi-50"].to_numpy())
    assert dict(result.items()).keys() == {"s0", "s1"} and len(result) == 2
    longer = xl.forecast(fitted, 7)  # another horizon from the same fit
    assert len(longer["s0"].mean) == 7
    np.testing.assert_array_equal(longer["s0"].mean[:4], xl.forecast(fitted)["s0"].mean)


def test_bad_input_is_one_line_naming_the_series_and_the_cell() -> None:
    with pytest.raises(LSTMError, match=r"series 'b' at step 3, index 2, column 'y' holds text 'x', not a number"):
        xl.fit({"a": list(range(1, 9)), "b": [1, 2, "x", 4]}, 2)
    with pytest.raises(LSTMError, match=r"series 'a' has a gap at step 3"):
        xl.fit({"a": [1.0, 2, None, 4, 5, 6]}, 2)
    with pytest.raises(LSTMError, match="give a series .* got int"):
        xl.fit(5, 2)
    with pytest.raises(LSTMError, match="fitted must be what xl.fit returns"):
        xl.forecast(np.arange(10.0))  # type: ignore[arg-type]


def test_a_season_given_overrides_the_dates() -> None:
    fitted = xl.fit(monthly_long(3), 6, season=1, **FAST)
    assert all(p.season == 1 for p in fitted.model.preps.values())
