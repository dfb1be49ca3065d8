"""Forecast error metrics: MAE, RMSE, MAPE, sMAPE, MASE.

Each takes ``actual`` and ``predicted`` arrays of the same shape. MAPE and sMAPE are
percentages. A metric that is not defined for the data (MAPE with an actual of 0,
MASE when the naive forecast's error is 0) is NaN, never a made-up number.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.checks import check_whole, finite_array, shape_str
from ..core.errors import LSTMError

__all__ = ["METRICS", "error_metrics", "mae", "mape", "mase", "rmse", "seasonal_naive", "smape"]

METRICS = ("MAE", "RMSE", "MAPE", "sMAPE", "MASE")


def _pair(actual: Any, predicted: Any) -> tuple[np.ndarray, np.ndarray]:
    a = finite_array("actual", actual, np.dtype(np.float64)).ravel()
    p = finite_array("predicted", predicted, np.dtype(np.float64))
    if p.size != a.size:
        raise LSTMError(
            f"predicted must have as many numbers as actual ({a.size}), got {p.size} ({shape_str(p.shape)})"
        )
    if a.size == 0:
        raise LSTMError("actual is empty: there is nothing to compare")
    return a, p.ravel()


def _finite(metric: str, names: str, compute: Any) -> float:
    """compute() as a float; a result that overflows float64 is refused, not returned as inf."""
    with np.errstate(over="ignore", invalid="ignore"):
        value = float(compute())
    if np.isinf(value):
        raise LSTMError(f"{metric} overflows float64 for {names}: rescale the data")
    return value


def mae(actual: Any, predicted: Any) -> float:
    """Mean absolute error: mean |a - p|."""
    a, p = _pair(actual, predicted)
    return _finite("MAE", "actual and predicted", lambda: np.mean(np.abs(a - p)))


def rmse(actual: Any, predicted: Any) -> float:
    """Root mean squared error: √(mean (a - p)²)."""
    a, p = _pair(actual, predicted)
    return _finite("RMSE", "actual and predicted", lambda: np.sqrt(np.mean((a - p) ** 2)))


def mape(actual: Any, predicted: Any) -> float:
    """Mean absolute percentage error, in %: 100 · mean |a - p| / |a|; NaN if any a is 0."""
    a, p = _pair(actual, predicted)
    if np.any(a == 0):
        return float("nan")
    return _finite("MAPE", "actual and predicted", lambda: 100.0 * np.mean(np.abs(a - p) / np.abs(a)))


def smape(actual: Any, predicted: Any) -> float:
    """Symmetric MAPE, in % (0 to 200): 100 · mean 2|a - p| / (|a| + |p|); a term with a = p = 0 counts 0."""
    a, p = _pair(actual, predicted)
    with np.errstate(over="ignore", invalid="ignore"):
        terms = _smape_terms(a, p)
    if not np.isfinite(terms).all():  # |a| + |p| beyond float64: halving both keeps every ratio
        terms = _smape_terms(a / 2, p / 2)
    return float(100.0 * np.mean(terms))


def _smape_terms(a: np.ndarray, p: np.ndarray) -> np.ndarray:
    denom = np.abs(a) + np.abs(p)
    return 2.0 * np.divide(np.abs(a - p), denom, out=np.zeros_like(denom), where=denom > 0)


def _naive_scale(name: str, history: Any, season: int) -> float:
    """Mean |y_t - y_{t-m}| of the seasonal naive forecast over ``history``: MASE's denominator."""
    check_whole("season", season, 1)
    y = finite_array(name, history, np.dtype(np.float64)).ravel()
    if y.size <= season:
        raise LSTMError(f"{name} must have more than season = {season} numbers for MASE, got {y.size}")
    return _finite("MASE's naive scale", name, lambda: np.mean(np.abs(y[season:] - y[:-season])))


def seasonal_naive(history: Any, season: int, horizon: int) -> np.ndarray:
    """The seasonal naive forecast (horizon,): step k repeats the value one season before it,
    y_(n+k) = y_(n-m+((k-1) mod m)); season 1 is the naive forecast (the last value, repeated)."""
    check_whole("season", season, 1)
    check_whole("horizon", horizon, 1)
    y = finite_array("history", history, np.dtype(np.float64)).ravel()
    if y.size < season:
        raise LSTMError(f"history must have at least season = {season} numbers for seasonal naive, got {y.size}")
    return y[y.size - season + np.arange(horizon) % season]


def mase(actual: Any, predicted: Any, season: int = 1, history: Any = None) -> float:
    """Mean absolute scaled error: MAE / the seasonal naive forecast's in-sample MAE.

    The scale comes from ``history`` (the training series, the usual definition),
    or from ``actual`` itself when no history is given. NaN when that scale is 0.
    """
    error = mae(actual, predicted)  # first, so a bad actual is named as actual
    scale = _naive_scale("actual" if history is None else "history", actual if history is None else history, season)
    return float("nan") if scale == 0 else error / scale


def error_metrics(actual: Any, predicted: Any, season: int = 1, history: Any = None) -> dict[str, float]:
    """All five metrics by name, in the order of METRICS."""
    return {
        "MAE": mae(actual, predicted),
        "RMSE": rmse(actual, predicted),
        "MAPE": mape(actual, predicted),
        "sMAPE": smape(actual, predicted),
        "MASE": mase(actual, predicted, season, history),
    }
