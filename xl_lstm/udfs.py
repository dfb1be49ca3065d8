"""xl_lstm's Excel functions: the module xlwings imports (``UDF Modules: xl_lstm.udfs``).

Works in classic xlwings (Windows Excel, COM) and in xlwings Lite / Server
(Office.js custom functions). It imports only numpy, xlwings, the standard
library and xl_lstm's own plain modules, so it also runs under Pyodide.

Each function is a thin wrapper: xlwings converts each range once (``Cells``: a 2-D object
array, trailing blank rows and columns dropped first, blanks as None, Excel errors as their
text, e.g. '#N/A'), ``xl_lstm.excel.sheet`` does the work,
and ``_call`` turns any refusal into one line of text in the cell, e.g.
``LSTM_STEP: W must be 4H×(H+D) = 16×5 (H=4 from b's 16 numbers, D=1 from x_t), got 16×4``.
Results are cached on the arguments' contents, so recalculating an unchanged
sheet costs the conversion and a hash, not a forward pass.

Parameters carry no type hints on purpose: xlwings reads hints as converters.
"""

from __future__ import annotations

import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np
import xlwings as xw
from xlwings.conversion import Converter, Options
from xlwings.conversion.standard import CleanDataFromReadStage, ValueAccessor

from .core.errors import LSTMError
from .excel import sheet
from .excel.ranges import trim_rows


def _raw_blank(value: Any) -> bool:
    """An empty cell as any engine hands it over, before xlwings' cleaning: None, '' or, under
    Pyodide (xlwings Lite), the JsNull sentinel (known by its type's name: no import per cell)."""
    return value is None or (isinstance(value, str) and value == "") or type(value).__name__ == "JsNull"


def _officejs_cell(value: Any) -> Any:
    """One Office.js cell as xlwings' cleaning gives it with our options (empty=None, err_to_str=True)."""
    if _raw_blank(value):
        return None
    if isinstance(value, dict):  # Excel.ErrorCellValue and other entity values
        return value.get("basicValue")
    return value


class _CleanCells:
    """xlwings' CleanDataFromReadStage, with the trailing blank rows and columns dropped first.

    A whole-column reference (A:A) arrives as 1,048,576 rows; xlwings cleans each cell and,
    on CPython, its per-cell ``is_jsnull`` tries ``import pyodide`` every time (~100 µs a
    cell: 102 s for A:A). So the blanks go first, and Office.js cells are cleaned here in
    one pass; other engines (classic COM) keep xlwings' own stage.
    """

    def __init__(self, options: dict[str, Any]) -> None:
        self._xlwings = CleanDataFromReadStage(options)

    def __call__(self, ctx: Any) -> None:
        ctx.value = trim_rows(ctx.value, _raw_blank)
        if getattr(ctx.engine, "name", None) == "officejs":
            ctx.value = [[_officejs_cell(v) for v in row] for row in ctx.value]
        else:
            self._xlwings(ctx)


class Cells(Converter):
    """How every range argument is read: a 2-D object array holding each cell as it is
    (float, int, bool, str, an error's text such as '#N/A', None for a blank), trailing
    blank rows and columns dropped, so xl_lstm.excel.ranges can judge every cell. xlwings'
    np.array defaults would coerce a mixed range first: numbers beside text become
    text, TRUE becomes 1.0, blanks NaN."""

    @classmethod
    def base_reader(cls, options: dict[str, Any]) -> Any:  # type: ignore[override]
        opts = Options(options).override(ndim=2, empty=None, err_to_str=True)
        return ValueAccessor.reader(opts).insert_stage(_CleanCells(opts), replace=CleanDataFromReadStage)

    @staticmethod
    def read_value(value: list[list[Any]], options: dict[str, Any]) -> np.ndarray:
        if not value or not value[0]:
            return np.empty((0, 0), dtype=object)
        out = np.empty((len(value), len(value[0])), dtype=object)
        out[:] = value  # never let NumPy guess a shape from nested values
        return out


RANGE: dict[str, Any] = {"convert": Cells}
W_DOC = "Weights, 4H rows (gates i, f, g, o) by H+D columns (h first, then x)."
B_DOC = "Bias: 4H cells, gates i, f, g, o."


class ResultCache:
    """A bounded LRU cache of function results keyed on their arguments' bytes.

    Bounded both in entries and in bytes (results plus the keys' argument bytes).
    """

    def __init__(self, max_entries: int = 256, max_bytes: int = 64 << 20) -> None:
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._items: OrderedDict[tuple, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple) -> Any:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item[0]

    def put(self, key: tuple, value: Any) -> None:
        size = (value.nbytes if isinstance(value, np.ndarray) else 256) + _key_bytes(key)
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._items:
                self._bytes -= self._items.pop(key)[1]
            self._items[key] = (value, size)
            self._bytes += size
            while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
                self._bytes -= self._items.popitem(last=False)[1][1]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._items)


CACHE = ResultCache()


def _fingerprint(value: Any) -> tuple:
    """An argument's contents as a hashable key: dtype, shape and its bytes.

    The bytes themselves, not a digest: a dictionary lookup compares them exactly,
    so two different ranges can never share a result, and hashing bytes is ~4x
    faster than a cryptographic digest. They count towards the cache's size bound.
    """
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biuf":
            return (value.dtype.str, value.shape, value.tobytes())
        return ("O", value.shape, pickle.dumps(value.tolist(), protocol=5))
    return (type(value).__name__, repr(value))


def _key_bytes(key: tuple) -> int:
    return sum(len(part[2]) for part in key[1:] if len(part) == 3 and isinstance(part[2], bytes))


def _call(name: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Run fn on the arguments, through the cache; a refusal becomes one line of text."""
    try:
        key: tuple | None = (name, *(_fingerprint(a) for a in args))
    except Exception:  # an argument we cannot fingerprint: compute without the cache
        key = None
    if key is not None:
        hit = CACHE.get(key)
        if hit is not None:
            return hit
    try:
        result = fn(*args)
    except LSTMError as exc:
        result = f"{name}: {exc}"
    except Exception as exc:  # a bug of ours: still one line, never a traceback in a cell
        detail = " ".join(str(exc).split())[:200]
        result = f"{name}: unexpected {type(exc).__name__}: {detail} (please report this)"
    if isinstance(result, np.ndarray):
        result.flags.writeable = False  # a cached result is shared between calls
    if key is not None:
        CACHE.put(key, result)
    return result


@xw.func
@xw.arg("x_t", **RANGE, doc="This step's inputs: one row of D cells.")
@xw.arg("h_prev", **RANGE, doc="Previous hidden state h: H cells (the row above); blank means zeros.")
@xw.arg("c_prev", **RANGE, doc="Previous cell state C: H cells (the row above); blank means zeros.")
@xw.arg("W", **RANGE, doc=W_DOC)
@xw.arg("b", **RANGE, doc=B_DOC)
def lstm_step(x_t, h_prev, c_prev, W, b):
    """One LSTM time step. Returns one row of 6H cells: i | f | g | C | o | h."""
    return _call("LSTM_STEP", sheet.lstm_step_row, x_t, h_prev, c_prev, W, b)


@xw.func
@xw.arg("X", **RANGE, doc="Inputs, one row per time step and D columns (time runs down).")
@xw.arg("W", **RANGE, doc=W_DOC)
@xw.arg("b", **RANGE, doc=B_DOC)
@xw.arg("h0", **RANGE, doc="Optional starting hidden state: H cells; blank means zeros.")
@xw.arg("c0", **RANGE, doc="Optional starting cell state: H cells; blank means zeros.")
@xw.arg("outputs", err_to_str=True, doc='Optional: "all" (i|f|g|C|o|h, the default) or names such as "h" or "c,h".')
def lstm_sequence(X, W, b, h0=None, c0=None, outputs="all"):
    """Runs the LSTM over every row of X. Returns T rows of the chosen quantities (H cells each)."""
    return _call("LSTM_SEQUENCE", sheet.lstm_sequence_table, X, W, b, h0, c0, outputs)


@xw.func
@xw.arg("history", **RANGE, doc="Past values, one row per time step (oldest first), D columns.")
@xw.arg("W", **RANGE, doc=W_DOC)
@xw.arg("b", **RANGE, doc=B_DOC)
@xw.arg("W_y", **RANGE, doc="Output head weights: D rows by H columns (predicts the next inputs).")
@xw.arg("b_y", **RANGE, doc="Output head bias: D cells; blank means zeros.")
@xw.arg("horizon", **RANGE, doc="How many steps ahead to forecast: a whole number.")
@xw.arg("scale", **RANGE, doc="Optional scaler the model was trained with: center and scale (2 cells, or 2×D).")
def lstm_forecast(history, W, b, W_y, b_y, horizon, scale=None):
    """Forecasts the next steps after history, each fed back as the next input. Returns horizon rows."""
    return _call("LSTM_FORECAST", sheet.forecast_table, history, W, b, W_y, b_y, horizon, scale)


@xw.func
@xw.arg("actual", **RANGE, doc="Actual values.")
@xw.arg("predicted", **RANGE, doc="Predicted values, as many cells as actual.")
@xw.arg("season", **RANGE, doc="Optional season length for MASE (12 for monthly data); default 1.")
@xw.arg("history", **RANGE, doc="Optional training series that scales MASE; default: actual itself.")
def lstm_metrics(actual, predicted, season=None, history=None):
    """Forecast errors: a 5×2 table of MAE, RMSE, MAPE (%), sMAPE (%) and MASE."""
    return _call("LSTM_METRICS", sheet.metrics_table, actual, predicted, season, history)


@xw.func
@xw.arg("inputs", **RANGE, doc="D: inputs per time step.")
@xw.arg("hidden", **RANGE, doc="H: hidden units.")
@xw.arg("seed", **RANGE, doc="Optional seed; the same seed always gives the same weights. Default 0.")
def lstm_init(inputs, hidden, seed=None):
    """Deterministic starting weights: 4H rows by H+D+1 columns (W, then b in the last column)."""
    return _call("LSTM_INIT", sheet.init_table, inputs, hidden, seed)
