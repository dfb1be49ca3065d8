"""What ``xl.fit`` takes, as a Panel: one series, a list of them, a mapping id -> series, or a DataFrame.

Everything becomes a ``Panel`` (``panel.py``), so that dates, frequency, season, order,
duplicates and gaps are checked by the one table reader, whatever the input's kind:

- a DataFrame: long (``unique_id, ds, y``) or wide, as ``panel_from_frame`` reads it;
- a pandas Series: its DatetimeIndex or PeriodIndex gives the dates, any other index steps 1..n;
  its name is its id ("series" without one);
- a 1-D array or a list of numbers: one series "series", steps 1..n;
- a list of series (ids "0", "1", ...) or a mapping id -> series, each as above.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import LSTMError
from .panel import Panel, panel_from_frame

__all__ = ["as_panel"]


def _is_series(v: Any) -> bool:
    """Is ``v`` one series (an array, a pandas Series or a list of numbers), not a number?"""
    return isinstance(v, pd.Series | np.ndarray | list | tuple)


def _dated(v: Any) -> bool:
    return isinstance(v, pd.Series) and isinstance(v.index, pd.DatetimeIndex | pd.PeriodIndex)


def _values(name: str, v: Any) -> Any:
    """A series' cells, as one column (a pandas Series keeps its dtype; a 2-D array of one column is one)."""
    if isinstance(v, pd.Series):
        return v.to_numpy()
    if isinstance(v, np.ndarray) and v.ndim == 2 and 1 in v.shape:
        return v.ravel()
    if isinstance(v, np.ndarray) and v.ndim != 1:
        raise LSTMError(f"series {name!r} must be one column of numbers, got an array of shape {v.shape}")
    if isinstance(v, list | tuple) and any(_is_series(c) for c in v):
        raise LSTMError(f"series {name!r} must be one column of numbers, got a list holding a list or array")
    return np.asarray(v, dtype=object) if isinstance(v, list | tuple) else v


def _column(y: Any) -> pd.Series:
    """A series' cells as a pandas column, cells of a list kept as they are: pandas 2.2 infers a
    type from them and overflows on a whole number too large for a float, which the readers name."""
    kept = isinstance(y, np.ndarray) and y.dtype == object
    return pd.Series(y, dtype=object if kept else None)


def _dates(v: pd.Series) -> pd.DatetimeIndex:
    index = v.index
    return index.to_timestamp() if isinstance(index, pd.PeriodIndex) else pd.DatetimeIndex(index)


def as_panel(data: Any, *, source: str = "the data") -> Panel:
    """``data`` (see the module's docstring) as a Panel; anything else, or bad cells, one LSTMError line."""
    if isinstance(data, Panel):
        return data
    if isinstance(data, pd.DataFrame):
        return panel_from_frame(data, source=source)
    if isinstance(data, Mapping):
        items = [(str(k), v) for k, v in data.items()]
    elif isinstance(data, list | tuple) and data and all(_is_series(v) for v in data):
        items = [(str(k), v) for k, v in enumerate(data)]
    elif _is_series(data):
        name = data.name if isinstance(data, pd.Series) and data.name is not None else "series"
        items = [(str(name), data)]
    else:
        raise LSTMError(
            f"{source}: give a series (an array, a list of numbers or a pandas Series), a list of them, "
            f"a mapping id -> series or a DataFrame; got {type(data).__name__}"
        )
    if not items:
        raise LSTMError(f"{source}: holds no series")
    for name, v in items:
        if not _is_series(v):
            raise LSTMError(f"series {name!r} must be one column of numbers, got {type(v).__name__}")
    if len(items) == 1:  # wide, one column: its cells are named by index and column
        name, v = items[0]
        column = _column(_values(name, v))
        frame = pd.DataFrame({name: column.set_axis(_dates(v)) if _dated(v) else column})
        return panel_from_frame(frame, source=source)
    pieces = []
    for name, v in items:
        y = _values(name, v)
        ds: Any = _dates(v) if _dated(v) else np.arange(1, len(y) + 1, dtype=np.int64)
        piece = pd.DataFrame({"unique_id": name, "ds": ds, "y": _column(y)})
        pieces.append(piece.set_index(pd.RangeIndex(len(piece))))  # index k: the series' own k-th value
    return panel_from_frame(pd.concat(pieces), source=source)
