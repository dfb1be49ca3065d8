"""Recursive multi-step forecasts from an LSTM with a linear head.

The head reads h_t and predicts the next input: y_t ≈ x_{t+1}. After warming up
on the history, each forecast is fed back as the next input.

Scaling: the model works on scaled data  x' = (x - center) / scale, and its
outputs are turned back with  y = y' · scale + center.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.checks import as_vector, check_whole, finite_array, shape_str, where
from ..core.errors import LSTMError
from .engine import Step, run, step
from .params import LSTMParams

__all__ = ["advance", "recursive_forecast"]


def recursive_forecast(
    params: LSTMParams, history: Any, horizon: int, center: Any = 0.0, scale: Any = 1.0
) -> np.ndarray:
    """Forecast ``horizon`` steps after ``history`` (T, D): returns (horizon, D), unscaled.

    Needs a head with as many outputs as inputs (O = D), since each forecast is
    the next step's input.
    """
    if not isinstance(params, LSTMParams):
        raise LSTMError(f"params must be LSTMParams, got {type(params).__name__}")
    D = params.input_size
    if params.W_y is None:
        raise LSTMError("forecasting needs a head: W_y (O×H) and b_y")
    if params.output_size != D:
        raise LSTMError(
            f"W_y must have O = D = {D} rows so forecasts can feed back as inputs, got {params.output_size}"
        )
    check_whole("horizon", horizon, 1)
    x = finite_array("history", history, params.dtype)
    if x.ndim == 1:
        x = x.reshape(-1, 1) if D == 1 else x.reshape(1, -1)
    if x.ndim != 2 or x.shape[1] != D or x.shape[0] == 0:
        raise LSTMError(f"history must be T×D with D={D} and T ≥ 1, got {shape_str(np.shape(history))}")
    mu = as_vector("center", center, None, params.dtype)
    sd = as_vector("scale", scale, None, params.dtype)
    mu, sd = (np.broadcast_to(v, (D,)) if v.size == 1 else v for v in (mu, sd))
    if mu.shape != (D,) or sd.shape != (D,):
        raise LSTMError(f"center and scale must have 1 or D={D} numbers each, got {mu.size} and {sd.size}")
    if np.any(sd == 0):
        raise LSTMError("scale must not be 0: it divides the data")

    with np.errstate(over="ignore", invalid="ignore"):
        scaled = (x - mu) / sd  # (T, D)
    if not np.isfinite(scaled).all():
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(scaled))[0])
        raise LSTMError(
            f"(history - center) / scale overflows {params.dtype.name} at {where(index)} of history: "
            "scale is too small for the data"
        )
    try:
        out = np.empty((horizon, D), params.dtype)
    except (MemoryError, ValueError, OverflowError):
        raise LSTMError(f"horizon={horizon} is too large: {horizon}×{D} forecasts do not fit in memory") from None
    try:
        warm = run(params, scaled, outputs="last")  # (L, H) states after the history
    except LSTMError as exc:  # run() calls the sequence X; here it is the scaled history
        raise LSTMError(str(exc).replace("X has values", "history (scaled) has values", 1)) from None
    h, c = warm.h_n, warm.c_n
    y: np.ndarray = warm.y_last  # type: ignore[assignment]  # (D,) scaled forecast of the first step ahead
    for k in range(horizon):
        with np.errstate(over="ignore", invalid="ignore"):
            out[k] = y * sd + mu
        if not np.isfinite(out[k]).all():
            raise LSTMError(
                f"the forecast {k + 1} step{'s' if k else ''} ahead overflows {params.dtype.name} once unscaled (· scale + center): "
                "center, scale or the head's weights are too large"
            )
        if k + 1 < horizon:
            h, c, y, _ = advance(params, y, h, c)
    return out


def advance(
    params: LSTMParams, x: np.ndarray, h: np.ndarray, c: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Step]:
    """One step of every layer on input x (the forecast fed back); returns the new states
    (L, H), the head's output and the top layer's Step (its gates, for a sheet that shows them)."""
    h_new, c_new = np.empty_like(h), np.empty_like(c)  # (L, H)
    inp = x
    for k in range(params.num_layers):
        s = step(params, inp, h[k], c[k], layer=k)
        h_new[k], c_new[k] = s.h, s.c
        inp = s.h
    with np.errstate(over="ignore", invalid="ignore"):  # an inf here is refused by the caller's check
        y = params.W_y @ inp + params.b_y  # type: ignore[operator]
    return h_new, c_new, y, s
