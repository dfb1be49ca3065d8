"""Rolling-origin evaluation of the one-LSTM model."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..core.checks import check_whole
from ..core.errors import LSTMError
from .train import fit_one_lstm, forecast_one_lstm, series_values


class BacktestResult(NamedTuple):
    metrics: dict[str, float]  # MAE, RMSE, MAPE, sMAPE, MASE over every origin's forecasts
    origins: list[int]  # where each forecast started (number of values it saw)
    forecasts: np.ndarray  # (origins, horizon)
    actuals: np.ndarray  # (origins, horizon)


def backtest(series: Any, *, horizon: int, origins: int = 3, season: int = 1, **fit_kwargs: Any) -> BacktestResult:
    """Rolling-origin evaluation: refit on the values before each origin, forecast ``horizon`` steps.

    The origins are the last ``origins`` non-overlapping blocks of ``horizon`` values;
    MASE is scaled by the seasonal naive error on the values before the first origin.
    ``fit_kwargs`` go to ``fit_one_lstm`` (hidden, epochs, log, diff, ...).
    """
    from .metrics import error_metrics

    y = series_values("series", series, 8)
    for name, v in (("horizon", horizon), ("origins", origins), ("season", season)):
        check_whole(name, v, 1)
    starts = [y.size - horizon * k for k in range(origins, 0, -1)]
    if starts[0] < max(8, season + 2):
        raise LSTMError(f"series has {y.size} values: too short for {origins} origins of {horizon} steps")
    preds = np.array(
        [forecast_one_lstm(fit_one_lstm(y[:o], **fit_kwargs), y[:o], horizon, levels=()).mean for o in starts]
    )
    actual = np.array([y[o : o + horizon] for o in starts])
    metrics = error_metrics(actual.ravel(), preds.ravel(), season, y[: starts[0]])
    return BacktestResult(metrics, starts, preds, actual)
