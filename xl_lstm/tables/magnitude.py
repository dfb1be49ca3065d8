"""Which numbers a series may hold, and which numbers a forecast may be written with.

Every reader of series (``cells.as_numbers`` for panels of CSV, Parquet, xlsx and DataFrames,
``series_file`` for the template's data) asks ``first_unfit`` for the first value it must refuse:
infinity (written as a number, or as text that overflows such as ``1e400``) or a magnitude over
``MAX_MAGNITUDE``. NaN is not judged here: it is a blank, which each reader allows or refuses
where it stands.

Why 1e100: the model's widest arithmetic is a sum of squares of values, or of their differences
(``2|y|``), over at most ``MAX_ROWS`` (1e6) values: ``(2e100)² x 1e6 = 4e206``, under float64's
1.8e308 with a factor of 1e100 to spare for the products taken on top (squared errors of
forecasts, interval widths, Adam's moments). The sum of squares itself overflows only past
``sqrt(1.8e308 / 1e6) / 2 = 7e150``; no quantity anyone measures comes near 1e100 (the
atoms of the observable universe are about 1e80), so a value beyond it is a typo or a
placeholder such as 1e308, and its file and cell are named instead of a forecast of 4.8e55.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.errors import LSTMError

__all__ = ["MAX_MAGNITUDE", "check_finite_forecasts", "first_unfit", "is_unfit", "unfit_words"]

MAX_MAGNITUDE = 1e100  # |y| above this is refused by every reader (see the module's docstring)


def first_unfit(values: np.ndarray) -> int | None:
    """The index of the first value that is ±inf or beyond ±MAX_MAGNITUDE (NaN passes: a blank), or None."""
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero(np.abs(np.asarray(values, dtype=np.float64)) > MAX_MAGNITUDE)
    return int(bad[0]) if len(bad) else None


def is_unfit(x: float) -> bool:
    """``first_unfit`` for one number, without an array: for readers that parse a cell at a time."""
    return abs(x) > MAX_MAGNITUDE  # False for NaN, True for ±inf


def unfit_words(x: float) -> str:
    """Why a number is refused, in words: '1e+308, beyond the ±1e+100 a series may hold'."""
    if np.isinf(x):
        return f"{x}, not a finite number"
    return f"{x:g}, beyond the ±{MAX_MAGNITUDE:g} a series may hold"


def check_finite_forecasts(frame: pd.DataFrame, source: str) -> None:
    """Refuse, in one line naming series, date and column, a forecast frame (``unique_id``, ``ds``,
    then numbers) holding ±inf in a column of numbers, or NaN in ``forecast``: a writer would leave
    'inf' that no spreadsheet reads as a number, or an empty cell where a forecast belongs. An
    interval (``lo-80``, ...) may be NaN: unknown when no series was long enough to validate on,
    which the forecaster's notes say; it is written as an empty cell."""
    for name in frame.columns:
        col = frame[name]
        if name in ("unique_id", "ds") or not pd.api.types.is_numeric_dtype(col.dtype):
            continue
        if pd.api.types.is_bool_dtype(col.dtype):
            continue
        values = col.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.flatnonzero(np.isinf(values) if str(name).startswith(("lo-", "hi-")) else ~np.isfinite(values))
        if not len(bad):
            continue
        k = int(bad[0])
        who = f"series {frame['unique_id'].iloc[k]!r}" if "unique_id" in frame.columns else f"row {k + 1}"
        at = f" at {frame['ds'].iloc[k]}" if "ds" in frame.columns else ""
        raise LSTMError(
            f"{source}: {who}{at}, column {str(name)!r} is {values[k]}, not a number; nothing was written "
            f"({len(bad):,} such value{'s' * (len(bad) > 1)}): check the series' values for extremes"
        )
