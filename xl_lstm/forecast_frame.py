"""Many series in, their forecasts out: the automatic forecaster over a pandas table.

    table = forecast_frame(df, horizon=12).table     # df: unique_id, ds, y (or one column per series)

The table is long, one row per series and future date, in the columns statsforecast uses:
``unique_id, ds, forecast, lo-80, hi-80, lo-95, hi-95`` (a pair per level). The dates'
frequency gives each series its season (12 for months, 4 for quarters, ...); without dates
the season comes from the data, as it does when ``season`` is not given.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import pandas as pd

from .auto import AutoConfig, AutoModel, fit_auto, forecast_auto
from .panel import Panel, future_dates, panel_from_frame
from .train import Epoch

__all__ = ["FrameForecast", "forecast_frame", "forecast_panel", "level_columns"]


class FrameForecast(NamedTuple):
    table: pd.DataFrame  # unique_id, ds, forecast, lo-80, hi-80, ...: (series × horizon) rows
    model: AutoModel
    notes: list[str]  # what the forecaster chose, and what a reader should know


def level_columns(levels: tuple[float, ...]) -> list[str]:
    """lo-80, hi-80, lo-95, hi-95 for levels (0.8, 0.95)."""
    return [f"{side}-{round(q * 100)}" for q in levels for side in ("lo", "hi")]


def forecast_frame(
    df: pd.DataFrame,
    horizon: int | None = None,
    levels: tuple[float, ...] = (0.8, 0.95),
    config: AutoConfig | None = None,
    *,
    on_epoch: Callable[[Epoch], None] | None = None,
    **settings: Any,
) -> FrameForecast:
    """Forecast every series of ``df`` (long ``unique_id, ds, y`` or wide: see xl_lstm.panel)."""
    return forecast_panel(panel_from_frame(df), horizon, levels, config, on_epoch=on_epoch, **settings)


def forecast_panel(
    panel: Panel,
    horizon: int | None = None,
    levels: tuple[float, ...] = (0.8, 0.95),
    config: AutoConfig | None = None,
    *,
    on_epoch: Callable[[Epoch], None] | None = None,
    **settings: Any,
) -> FrameForecast:
    """``forecast_frame`` for a panel already read (``xl_lstm.panel.read_panel``); the horizon
    defaults to the frequency's (12 months, 8 quarters, ...; 12 steps without dates)."""
    h = horizon if horizon is not None else (panel.frequency.horizon or 12)
    series = {str(k): g["y"].to_numpy(float) for k, g in panel.long.groupby("unique_id", sort=False)}
    series = {k: series[k] for k in panel.id_order if k in series}
    dated = panel.frequency.period != "step"  # a frequency we know: its season (else from the data)
    seasons = dict.fromkeys(series, panel.frequency.season) if dated else None
    model = fit_auto(series, h, config, seasons=seasons, on_epoch=on_epoch, **settings)
    out = forecast_auto(model, h, levels)
    dates = future_dates(panel, h)  # unique_id, ds
    rows = []
    for k, r in out.forecasts.items():
        block = {"forecast": r.mean}
        for q in levels:
            block[f"lo-{round(q * 100)}"], block[f"hi-{round(q * 100)}"] = r.lower[q], r.upper[q]
        frame = pd.DataFrame(block)
        frame.insert(0, "ds", dates.loc[dates["unique_id"] == k, "ds"].to_numpy())
        frame.insert(0, "unique_id", k)
        rows.append(frame)
    table = pd.concat(rows, ignore_index=True)
    return FrameForecast(table, model, [f"chose: {model.describe()}", *out.notes])
