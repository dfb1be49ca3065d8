"""Many series through a pandas table and through ``xl-lstm forecast``: the same numbers, the table's shape."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tests.forecast.test_auto import FAST, seasonal_panel
from tests.limited import xl_lstm
from xl_lstm.runs.forecast_frame import forecast_frame


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
    assert all(p.season == 12 for p in result.model.preps.values())  # the season from the monthly dates
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
    result = forecast_frame(df, 6, sample=3, **FAST)
    assert result.model.describe().startswith("3 series:") and result.table["unique_id"].nunique() == 6
