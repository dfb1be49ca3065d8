"""The worksheet functions as plain Python: ranges in, 2-D arrays out.

``xl_lstm.udfs`` wraps each of these for xlwings; here they are ordinary functions
that tests (and other front ends) call directly. Inputs are whatever a range
holds (see ``xl_lstm.excel.ranges``); every refusal is an LSTMError with one line.

Sizes come from the sheet itself: H from b (4H numbers), D from the inputs, so a
wrong W gets a message with the shape it should have had.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.errors import LSTMError
from ..core.limits import MAX_HORIZON, SHEET_COLUMNS
from ..forecasting.metrics import METRICS, error_metrics
from ..lstm.engine import run, step
from ..lstm.params import LSTMParams, init_params
from ..lstm.recursive import recursive_forecast
from .ranges import EXCEL_ERRORS, numbers, vector_or_none, whole_number

__all__ = [
    "forecast_table",
    "init_table",
    "lstm_sequence_table",
    "lstm_step_row",
    "metrics_table",
    "parse_outputs",
]

QUANTITIES = ("i", "f", "g", "c", "o", "h")  # the sheet's row order


def _bias(b: Any) -> np.ndarray:
    """b as 4H numbers from a row or a column."""
    arr = numbers("b", b)
    if 1 not in arr.shape:
        raise LSTMError(f"b must be a row or a column of 4H numbers, got a {arr.shape[0]}×{arr.shape[1]} block")
    if arr.size % 4:
        raise LSTMError(f"b must have 4H numbers (one per gate and unit), got {arr.size}, not a multiple of 4")
    return arr.ravel()


def _params(W: Any, b: Any, D: int, d_from: str, W_y: Any = None, b_y: Any = None) -> LSTMParams:
    """LSTMParams from sheet ranges, with H from b and D from the inputs."""
    bias = _bias(b)
    H = bias.size // 4
    w = numbers("W", W)
    want = (4 * H, H + D)
    if w.shape != want:
        raise LSTMError(
            f"W must be 4H×(H+D) = {want[0]}×{want[1]} (H={H} from b's {4 * H} numbers, D={D} from {d_from}), "
            f"got {w.shape[0]}×{w.shape[1]}"
        )
    head_w = head_b = None
    if W_y is not None:
        head_w = numbers("W_y", W_y)
        if head_w.shape[1] != H:
            if head_w.shape == (H, 1):
                head_w = head_w.T  # one output given as a column
            else:
                raise LSTMError(f"W_y must be O×H with H={H}, got {head_w.shape[0]}×{head_w.shape[1]}")
        head_b = vector_or_none("b_y", b_y, head_w.shape[0])
    return LSTMParams(w, bias, head_w, head_b)


def _sequence(name: str, X: Any, W: Any, b: Any) -> np.ndarray:
    """X as T×D, time down the rows; one row of numbers is one series when W says D=1."""
    x = numbers(name, X)
    if x.shape[0] == 1 and x.shape[1] > 1:
        try:
            d_w = numbers("W", W).shape[1] - _bias(b).size // 4
        except LSTMError:
            d_w = None  # let the W/b checks report it properly
        if d_w == 1:
            x = x.T
    return x


def lstm_step_row(x_t: Any, h_prev: Any, c_prev: Any, W: Any, b: Any) -> np.ndarray:
    """One step: a 1×6H row  i | f | g | C | o | h. Blank h_prev/c_prev mean zeros."""
    x = numbers("x_t", x_t)
    if 1 not in x.shape:
        raise LSTMError(f"x_t must be one row (or column) of D inputs, got a {x.shape[0]}×{x.shape[1]} block")
    x = x.ravel()
    params = _params(W, b, x.size, "x_t")
    H = params.hidden_size
    h = vector_or_none("h_prev", h_prev, H)
    c = vector_or_none("c_prev", c_prev, H)
    return step(params, x, h, c).row()[None, :]  # (1, 6H)


def parse_outputs(outputs: Any) -> tuple[str, ...]:
    """'all' → i, f, g, c, o, h; otherwise names such as 'h' or 'c,h' (any case, comma or space)."""
    if outputs is None or (isinstance(outputs, str) and outputs.strip() == ""):
        return QUANTITIES
    if not isinstance(outputs, str):
        raise LSTMError(f"outputs must be text such as all, h or c,h; got {outputs!r}")
    if outputs.strip().upper() in EXCEL_ERRORS:
        raise LSTMError(f"outputs holds the error {outputs.strip().upper()}: expected text such as all, h or c,h")
    text = outputs.strip().lower()
    if text == "all":
        return QUANTITIES
    names = tuple(part for part in text.replace(",", " ").replace(";", " ").split())
    unknown = [n for n in names if n not in QUANTITIES]
    if unknown or not names:
        raise LSTMError(f"outputs must be all or names from i, f, g, c, o, h (e.g. c,h); got {outputs!r}")
    return names


def lstm_sequence_table(X: Any, W: Any, b: Any, h0: Any = None, c0: Any = None, outputs: Any = "all") -> np.ndarray:
    """Every step of a sequence: T rows of the chosen quantities, H columns each."""
    names = parse_outputs(outputs)
    x = _sequence("X", X, W, b)
    params = _params(W, b, x.shape[1], "X's columns")
    H = params.hidden_size
    if len(names) * H > SHEET_COLUMNS:
        raise LSTMError(
            f"{len(names)} outputs of H={H} make {len(names) * H} columns, more than a sheet's {SHEET_COLUMNS}"
        )
    h = vector_or_none("h0", h0, H)
    c = vector_or_none("c0", c0, H)
    r = run(params, x, h, c, outputs="all")
    return np.concatenate([getattr(r, n) for n in names], axis=1)  # (T, len(names)·H)


def _scaler(scale: Any, D: int) -> tuple[np.ndarray, np.ndarray]:
    """scale: blank (none), [center, scale] for D=1, or 2×D (centers row, scales row)."""
    s = numbers("scale", scale, allow_empty=True)
    if s.size == 0:
        return np.zeros(D), np.ones(D)
    if s.size == 2 and D == 1:
        return s.ravel()[:1], s.ravel()[1:]
    if s.shape == (2, D):
        return s[0], s[1]
    raise LSTMError(
        f"scale must be two cells (center, scale) for one input or 2×D = 2×{D}, got {s.shape[0]}×{s.shape[1]}"
    )


def forecast_table(history: Any, W: Any, b: Any, W_y: Any, b_y: Any, horizon: Any, scale: Any = None) -> np.ndarray:
    """``horizon`` steps ahead of ``history``: a horizon×D table of forecasts."""
    x = _sequence("history", history, W, b)
    if W_y is None:
        raise LSTMError("W_y is empty: the forecast needs the output head (O×H)")
    params = _params(W, b, x.shape[1], "history's columns", W_y, b_y)
    n = whole_number("horizon", horizon, low=1)
    if n > MAX_HORIZON:
        raise LSTMError(f"horizon must be at most {MAX_HORIZON:,} steps (the budget of one call), got {n:,}")
    center, spread = _scaler(scale, x.shape[1])
    return recursive_forecast(params, x, n, center, spread)


def metrics_table(actual: Any, predicted: Any, season: Any = None, history: Any = None) -> np.ndarray:
    """A 5×2 table: MAE, RMSE, MAPE (%), sMAPE (%), MASE and their values."""
    a = numbers("actual", actual)
    p = numbers("predicted", predicted)
    if a.size != p.size:
        raise LSTMError(f"predicted must have as many cells as actual ({a.size}), got {p.size}")
    m = whole_number("season", season, low=1, default=1)
    hist = numbers("history", history, allow_empty=True)
    values = error_metrics(a, p, m, hist if hist.size else None)
    table = np.empty((len(METRICS), 2), dtype=object)
    table[:, 0] = METRICS
    table[:, 1] = [values[k] for k in METRICS]
    return table


def init_table(inputs: Any, hidden: Any, seed: Any = None) -> np.ndarray:
    """Deterministic starting weights: a 4H×(H+D+1) block, W then b as the last column."""
    D = whole_number("inputs", inputs, low=1)
    H = whole_number("hidden", hidden, low=1)
    s = whole_number("seed", seed, low=0, default=0)
    if H * (H + D) > 1_000_000:
        raise LSTMError(f"hidden={H} and inputs={D} make a W of {4 * H}×{H + D}: too large for a sheet")
    p = init_params(D, H, seed=s)
    return np.hstack([p.W, p.b[:, None]])
