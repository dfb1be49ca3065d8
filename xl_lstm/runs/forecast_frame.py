"""Many series in, their forecasts out: the automatic forecaster over a pandas table.

    table = forecast_frame(df, horizon=12).table     # df: unique_id, ds, y (or one column per series)

The table is long, one row per series and future date, in the columns statsforecast uses:
``unique_id, ds, forecast, lo-80, hi-80, lo-95, hi-95`` (a pair per level). The dates'
frequency gives each series its season (12 for months, 4 for quarters, ...); without dates
the season comes from the data, as it does when ``season`` is not given.

Two steps, so that a cluster (``xl_lstm.runs.cluster``) runs each where it belongs and gets the
same numbers: ``fit_panel`` trains the one global model on the series (all of them, or a
sample), and ``forecast_series`` forecasts any series with that model, one part of the
panel at a time. A series the forecaster refuses (too short, constant, ...) is left out
with its one-line reason in ``refused``; the others go on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..core.errors import LSTMError
from ..forecast.auto import AutoConfig, AutoModel, fit_auto, forecast_auto, series_prep
from ..forecast.train import Epoch
from ..tables.panel import Panel, id_column, panel_from_frame
from ..tables.writers import future_dates

__all__ = [
    "FrameForecast",
    "PanelFit",
    "SeriesForecast",
    "fit_panel",
    "fit_sample",
    "forecast_frame",
    "forecast_panel",
    "forecast_series",
    "level_columns",
    "restrict",
]


class FrameForecast(NamedTuple):
    table: pd.DataFrame  # unique_id, ds, forecast, lo-80, hi-80, ...: (series × horizon) rows
    model: AutoModel
    notes: list[str]  # what the forecaster chose, and what a reader should know
    refused: dict[str, str] = {}  # series id -> the one line saying why it was left out


class PanelFit(NamedTuple):
    model: AutoModel
    horizon: int
    refused: dict[str, str]  # series of the fitted panel that the forecaster refused, with why


class SeriesForecast(NamedTuple):
    table: pd.DataFrame  # as FrameForecast.table, for the series forecast
    notes: list[str]  # forecast_auto's notes (the same for every part: they depend on the model only)
    refused: dict[str, str]


def level_columns(levels: tuple[float, ...]) -> list[str]:
    """lo-80, hi-80, lo-95, hi-95 for levels (0.8, 0.95)."""
    return [f"{side}-{round(q * 100)}" for q in levels for side in ("lo", "hi")]


def forecast_frame(
    df: pd.DataFrame,
    horizon: int | None = None,
    levels: tuple[float, ...] = (0.8, 0.95),
    config: AutoConfig | None = None,
    *,
    sample: int | None = None,
    on_epoch: Callable[[Epoch], None] | None = None,
    **settings: Any,
) -> FrameForecast:
    """Forecast every series of ``df`` (long ``unique_id, ds, y`` or wide: see xl_lstm.tables.panel);
    ``sample``: fit on that many series (``forecast_panel``)."""
    return forecast_panel(panel_from_frame(df), horizon, levels, config, sample=sample, on_epoch=on_epoch, **settings)


def forecast_panel(
    panel: Panel,
    horizon: int | None = None,
    levels: tuple[float, ...] = (0.8, 0.95),
    config: AutoConfig | None = None,
    *,
    sample: int | None = None,
    on_epoch: Callable[[Epoch], None] | None = None,
    **settings: Any,
) -> FrameForecast:
    """``forecast_frame`` for a panel already read (``xl_lstm.tables.panel.read_panel``); the horizon
    defaults to the frequency's (12 months, 8 quarters, ...; 12 steps without dates).
    ``sample``: fit on that many series chosen at random (``fit_sample``), forecast all."""
    cfg = (config or AutoConfig()).changed(**settings)
    fit_on = restrict(panel, fit_sample(panel.id_order, sample, cfg.seed)) if sample is not None else panel
    fit = fit_panel(fit_on, horizon, cfg, on_epoch=on_epoch)
    out = forecast_series(fit.model, panel, fit.horizon, levels)
    return FrameForecast(out.table, fit.model, [f"chose: {fit.model.describe()}", *out.notes], out.refused)


# ---- the steps -----------------------------------------------------------------------------------
def panel_horizon(panel: Panel, horizon: int | None) -> int:
    """The steps to forecast: ``horizon``, else the frequency's (12 months, 8 quarters, ...), else 12."""
    return horizon if horizon is not None else (panel.frequency.horizon or 12)


def panel_series(panel: Panel) -> dict[str, np.ndarray]:
    """id -> values (n,), in ``panel.id_order``."""
    found = {str(k): g["y"].to_numpy(float) for k, g in panel.long.groupby("unique_id", sort=False)}
    return {k: found[k] for k in panel.id_order if k in found}


def panel_seasons(panel: Panel, ids: Mapping[str, Any] | list[str]) -> dict[str, int] | None:
    """Each series' season from the dates' frequency (12 for months, ...); None for step numbers (from the data)."""
    return dict.fromkeys(ids, panel.frequency.season) if panel.frequency.period != "step" else None


def fit_sample(ids: list[str], size: int | None, seed: int) -> list[str]:
    """``size`` of ``ids`` chosen at random with ``seed``, in their order (all of them when size is None or more)."""
    if size is None or size >= len(ids):
        return list(ids)
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise LSTMError(f"the fit sample must be a whole number of series, at least 1, got {size!r}")
    chosen = np.sort(np.random.default_rng(seed).choice(len(ids), size, replace=False))
    return [ids[k] for k in chosen]


def restrict(panel: Panel, ids: list[str]) -> Panel:
    """The panel with only the series ``ids`` (in that order)."""
    keep = set(ids)
    long = panel.long[panel.long["unique_id"].isin(keep)].reset_index(drop=True)
    return dataclasses.replace(panel, long=long, id_order=[k for k in ids if k in set(panel.id_order)])


def screen(
    series: Mapping[str, np.ndarray], seasons: Mapping[str, int] | None, season: int | None
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """(the series the forecaster takes, id -> why it refuses the others): its per-series checks (series_prep)."""
    ok, refused = {}, {}
    for k, y in series.items():
        try:
            series_prep(k, y, (seasons or {}).get(k, season))
        except LSTMError as exc:
            refused[k] = str(exc)
            continue
        ok[k] = y
    return ok, refused


def fit_panel(
    panel: Panel,
    horizon: int | None = None,
    config: AutoConfig | None = None,
    *,
    on_epoch: Callable[[Epoch], None] | None = None,
    **settings: Any,
) -> PanelFit:
    """Train the global model on the panel's series (in ``panel.id_order``), leaving out those it refuses."""
    cfg = (config or AutoConfig()).changed(**settings)
    cfg.check()
    h = panel_horizon(panel, horizon)
    ok, refused = screen(panel_series(panel), panel_seasons(panel, panel.id_order), cfg.season)
    if not ok:
        first = next(iter(refused.values()), f"{panel.source}: has no series")
        raise LSTMError(f"no series to fit on: every one was refused, e.g. {first}")
    model = fit_auto(ok, h, cfg, seasons=panel_seasons(panel, ok), on_epoch=on_epoch)
    return PanelFit(model, h, refused)


def forecast_series(model: AutoModel, panel: Panel, horizon: int, levels: tuple[float, ...]) -> SeriesForecast:
    """Forecast the panel's series with ``model`` (fitted on them or not: ``model.shared()`` is
    enough), each on its own, so a part of a panel gets the numbers the whole panel would."""
    ok, refused = screen(panel_series(panel), panel_seasons(panel, panel.id_order), model.config.season)
    columns = ["unique_id", "ds", "forecast", *level_columns(levels)]
    if not ok:
        return SeriesForecast(pd.DataFrame({c: [] for c in columns}), [], refused)
    out = forecast_auto(model, horizon, levels, series=ok, seasons=panel_seasons(panel, ok))
    dates = future_dates(panel, horizon)  # unique_id, ds: sorted by id, horizon rows each
    ds_of = dict(
        zip(dates["unique_id"].to_numpy()[::horizon], dates["ds"].to_numpy().reshape(-1, horizon), strict=True)
    )
    ids = list(out.forecasts)
    block: dict[str, Any] = {
        "unique_id": id_column(np.repeat(np.array(ids, dtype=object), horizon)),
        "ds": np.concatenate([ds_of[k] for k in ids]),
        "forecast": np.concatenate([r.mean for r in out.forecasts.values()]),
    }
    for q in levels:
        block[f"lo-{round(q * 100)}"] = np.concatenate([r.lower[q] for r in out.forecasts.values()])
        block[f"hi-{round(q * 100)}"] = np.concatenate([r.upper[q] for r in out.forecasts.values()])
    return SeriesForecast(pd.DataFrame(block, columns=columns), out.notes, refused)
