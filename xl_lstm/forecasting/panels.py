"""The automatic forecaster, from data to the forecasts table: ``fit`` and ``forecast`` (``xl.fit``, ``xl.forecast``).

    fitted = fit(data, horizon=12)          # a series, a list, a mapping id -> series, or a DataFrame
    result = forecast(fitted)               # Forecasts
    result.table                            # unique_id, ds, forecast, lo-80, hi-80, lo-95, hi-95
    result["sales"].mean, result["sales"].lower[0.8]   # its Python twin: arrays per series

Every input becomes a ``Panel`` (``xl_lstm.tables.inputs.as_panel``), so dates, frequency,
season and gaps are checked once; the dates' frequency gives each series its season (12 for
months, 4 for quarters, ...) unless ``season`` is given; without dates the season comes from the
data. The table is long, one row per series and future date, in the columns statsforecast uses.

Two steps, so that a cluster (``xl_lstm.runs.cluster``) runs each where it belongs and gets the
same numbers: ``fit_panel`` trains the one global model on a panel's series, and
``forecast_panel`` forecasts any panel's series with that model, one part at a time. A series
the forecaster refuses (too short, constant, ...) is left out with its one-line reason in
``refused``; the others go on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..core.checks import check_whole
from ..core.errors import LSTMError
from ..core.limits import DEFAULT_LEVELS
from ..tables.inputs import as_panel
from ..tables.panel import Panel, id_column
from ..tables.writers import future_dates
from .auto import AutoConfig, AutoModel, SeriesPrep, fit_auto, forecast_auto, series_prep
from .train import Epoch, ForecastResult, check_levels

__all__ = [
    "Fitted",
    "Forecasts",
    "fit",
    "fit_panel",
    "fit_sample",
    "forecast",
    "forecast_panel",
    "level_columns",
    "restrict",
]


@dataclass(frozen=True)
class Fitted:
    """What ``fit`` returns and ``forecast`` takes: the model and the series it will forecast."""

    model: AutoModel
    horizon: int  # the steps validated (and forecast by default)
    panel: Panel  # the series, their dates and frequency: where the forecasts start
    refused: dict[str, str]  # series id -> the one line saying why the forecaster left it out

    def __repr__(self) -> str:
        return f"Fitted({self.panel.source}; {self.model.describe()}; horizon {self.horizon})"


@dataclass(frozen=True, repr=False, eq=False)
class Forecasts(Mapping[str, ForecastResult]):
    """The one forecast result: the long table, and per series id its arrays (``result[id]``)."""

    table: pd.DataFrame  # unique_id, ds, forecast, lo-80, hi-80, ...: (series x horizon) rows
    notes: list[str]  # what the forecaster chose, and what a reader of the intervals should know
    refused: dict[str, str]  # series id -> the one line saying why it was left out; the others went on
    levels: tuple[float, ...] = DEFAULT_LEVELS

    def __getitem__(self, uid: str) -> ForecastResult:
        rows = self.table[self.table["unique_id"] == uid]
        if rows.empty:
            why = f": {self.refused[uid]}" if uid in self.refused else ""
            raise KeyError(f"no forecasts of series {uid!r}{why}")
        col = {c: rows[c].to_numpy(np.float64) for c in rows.columns if c not in ("unique_id", "ds")}
        lower = {q: col[f"lo-{round(q * 100)}"] for q in self.levels}
        upper = {q: col[f"hi-{round(q * 100)}"] for q in self.levels}
        return ForecastResult(col["forecast"], lower, upper)

    def __iter__(self) -> Iterator[str]:
        return iter(str(u) for u in pd.unique(self.table["unique_id"]))

    def __len__(self) -> int:
        return int(self.table["unique_id"].nunique())

    def __repr__(self) -> str:
        return f"Forecasts({len(self)} series, {len(self.table)} rows, {len(self.refused)} refused)"


def level_columns(levels: tuple[float, ...]) -> list[str]:
    """lo-80, hi-80, lo-95, hi-95 for levels (0.8, 0.95)."""
    return [f"{side}-{round(q * 100)}" for q in levels for side in ("lo", "hi")]


# ---- the public pair ---------------------------------------------------------------------------------
def fit(
    data: Any,
    horizon: int | None = None,
    config: AutoConfig | None = None,
    *,
    season: int | None = None,
    sample: int | None = None,
    on_epoch: Callable[[Epoch], None] | None = None,
    **settings: Any,
) -> Fitted:
    """Train the automatic forecaster on ``data``: one series (a 1-D array, a list of numbers, a
    pandas Series, whose DatetimeIndex or PeriodIndex gives the dates), a list of series, a
    mapping id -> series, or a DataFrame (long ``unique_id, ds, y`` or wide), or a Panel.

    ``horizon``: the steps to validate and forecast (default: the frequency's, 12 months,
    8 quarters, ...; 12 without dates). ``season`` overrides the dates' (1: none). ``sample``: fit
    on that many series chosen at random (the others are still forecast). ``settings`` change
    ``AutoConfig`` (hidden, members, updates, seed, ...)."""
    panel = as_panel(data)
    if season is not None:
        settings["season"] = season
    cfg = (config or AutoConfig()).changed(**settings)
    fit_on = restrict(panel, fit_sample(panel.id_order, sample, cfg.seed)) if sample is not None else panel
    fitted = fit_panel(fit_on, horizon, cfg, on_epoch=on_epoch)
    return dataclasses.replace(fitted, panel=panel)


def forecast(fitted: Fitted, horizon: int | None = None, levels: tuple[float, ...] = DEFAULT_LEVELS) -> Forecasts:
    """Forecast every series ``fit`` was given, ``horizon`` steps (default: the fitted horizon) after
    its last date, with intervals at ``levels`` (fractions)."""
    if not isinstance(fitted, Fitted):
        raise LSTMError(f"fitted must be what xl.fit returns (Fitted), got {type(fitted).__name__}")
    h = fitted.horizon if horizon is None else horizon
    out = forecast_panel(fitted.model, fitted.panel, h, levels)
    return Forecasts(
        out.table, [f"chose: {fitted.model.describe()}", *out.notes], fitted.refused | out.refused, out.levels
    )


# ---- the steps -----------------------------------------------------------------------------------
def panel_horizon(panel: Panel, horizon: int | None) -> int:
    """The steps to forecast: ``horizon``, else the frequency's (12 months, 8 quarters, ...), else 12."""
    return horizon if horizon is not None else (panel.frequency.horizon or 12)


def panel_series(panel: Panel) -> dict[str, np.ndarray]:
    """id -> values (n,), in ``panel.id_order``."""
    found = {str(k): g["y"].to_numpy(float) for k, g in panel.long.groupby("unique_id", sort=False)}
    return {k: found[k] for k in panel.id_order if k in found}


def panel_seasons(panel: Panel, ids: Mapping[str, Any] | list[str], season: int | None) -> dict[str, int] | None:
    """Each series' season from the dates' frequency (12 for months, ...); None when ``season`` is given
    (it applies to every series) or for step numbers (from the data)."""
    if season is not None or panel.frequency.period == "step":
        return None
    return dict.fromkeys(ids, panel.frequency.season)


def fit_sample(ids: list[str], size: int | None, seed: int) -> list[str]:
    """``size`` of ``ids`` chosen at random with ``seed``, in their order (all of them when size is None or more)."""
    if size is None or (isinstance(size, int) and not isinstance(size, bool) and size >= len(ids)):
        return list(ids)
    check_whole("the fit sample", size, 1, hint=" (series)")
    chosen = np.sort(np.random.default_rng(seed).choice(len(ids), size, replace=False))
    return [ids[k] for k in chosen]


def restrict(panel: Panel, ids: list[str]) -> Panel:
    """The panel with only the series ``ids`` (in that order)."""
    keep = set(ids)
    long = panel.long[panel.long["unique_id"].isin(keep)].reset_index(drop=True)
    return dataclasses.replace(panel, long=long, id_order=[k for k in ids if k in set(panel.id_order)])


def screen(
    series: Mapping[str, np.ndarray], seasons: Mapping[str, int] | None, season: int | None
) -> tuple[dict[str, SeriesPrep], dict[str, np.ndarray], dict[str, str]]:
    """(the transforms of the series the forecaster takes, those series, id -> why it refuses
    the others): its per-series checks are making the transforms (series_prep), done once here
    and handed on to the fit and the forecast."""
    preps, ok, refused = {}, {}, {}
    for k, y in series.items():
        try:
            preps[k] = series_prep(k, y, (seasons or {}).get(k, season))
        except LSTMError as exc:
            refused[k] = str(exc)
            continue
        ok[k] = y
    return preps, ok, refused


def fit_panel(
    panel: Panel,
    horizon: int | None = None,
    config: AutoConfig | None = None,
    *,
    on_epoch: Callable[[Epoch], None] | None = None,
    **settings: Any,
) -> Fitted:
    """Train the global model on the panel's series (in ``panel.id_order``), leaving out those it refuses."""
    cfg = (config or AutoConfig()).changed(**settings)
    cfg.check()
    h = panel_horizon(panel, horizon)
    preps, ok, refused = screen(panel_series(panel), panel_seasons(panel, panel.id_order, cfg.season), cfg.season)
    if not ok:
        first = next(iter(refused.values()), f"{panel.source}: has no series")
        raise LSTMError(f"no series to fit on: every one was refused, e.g. {first}")
    model = fit_auto(ok, h, cfg, preps=preps, on_epoch=on_epoch)
    return Fitted(model, h, panel, refused)


def forecast_panel(model: AutoModel, panel: Panel, horizon: int, levels: tuple[float, ...]) -> Forecasts:
    """Forecast the panel's series with ``model`` (fitted on them or not: ``model.shared()`` is
    enough), each on its own, so a part of a panel gets the numbers the whole panel would.
    The notes are forecast_auto's (the same for every part: they depend on the model only)."""
    levels = check_levels(levels)
    season = model.config.season
    preps, ok, refused = screen(panel_series(panel), panel_seasons(panel, panel.id_order, season), season)
    columns = ["unique_id", "ds", "forecast", *level_columns(levels)]
    if not ok:
        return Forecasts(pd.DataFrame({c: [] for c in columns}), [], refused, levels)
    dates = future_dates(panel, horizon)  # unique_id, ds: sorted by id, horizon rows each
    out = forecast_auto(model, horizon, levels, series=ok, preps=preps)
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
    return Forecasts(pd.DataFrame(block, columns=columns), out.notes, refused, levels)
