"""Forecasts out: the steps to forecast, the forecaster's frame in the source's shape, and table files by suffix.

``future_dates`` lays out the steps to forecast, and ``write_panel_forecasts`` writes the
forecaster's long frame back in the source's own shape (``forecast_frame_shape``): long with
the user's column names, or wide with one column per series and its intervals; ``table_writer``
writes any frame as .csv (ISO dates), .parquet or .xlsx (real dates), for ``atomic_write``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from ..core.checks import check_whole
from ..core.errors import LSTMError
from ..core.files import Seen, atomic_write, refuse_input
from ..core.limits import MAX_ROWS, SHEET_COLUMNS, SHEET_ROWS, WRITE_SUFFIXES
from ..core.sheet_cells import put_value
from .frequency import add_offset, offset_of
from .magnitude import check_finite_forecasts
from .panel import Panel, id_column

__all__ = ["forecast_frame_shape", "future_dates", "table_writer", "write_panel_forecasts"]


def future_dates(panel: Panel, horizon: int) -> pd.DataFrame:
    """unique_id, ds: the ``horizon`` steps after each series' last ds, sorted like ``panel.long``."""
    check_whole("horizon", horizon, 1, hint=" (steps ahead)")
    h = int(horizon)
    last = panel.long.groupby("unique_id", sort=True)["ds"].last()  # (series,)
    if len(last) * h > MAX_ROWS:
        raise LSTMError(
            f"{panel.source}: {len(last):,} series x {h:,} steps ahead is over the limit of {MAX_ROWS:,} rows; "
            "forecast fewer steps"
        )
    ids = np.repeat(last.index.to_numpy(dtype=object), h)
    if panel.freq_code is None:
        ds: np.ndarray = (last.to_numpy(dtype=np.int64)[:, None] + np.arange(1, h + 1)).ravel()
    else:
        offset, ends = offset_of(panel.freq_code), pd.DatetimeIndex(last.to_numpy())
        try:
            ahead = [add_offset(ends, offset * k).to_numpy() for k in range(1, h + 1)]  # (h, series)
        except (OverflowError, ValueError):
            raise LSTMError(f"{panel.source}: {h} steps ahead runs past the last date pandas holds (2262)") from None
        ds = np.stack(ahead, axis=1).ravel().astype("datetime64[ns]")
    return pd.DataFrame({"unique_id": id_column(ids), "ds": ds})


def forecast_frame_shape(forecasts: pd.DataFrame, panel: Panel) -> pd.DataFrame:
    """The forecaster's long frame (unique_id, ds, forecast, then e.g. lo-80, hi-80, ...) in the source's shape.

    long: the same columns, id and ds under the user's names. wide: one row per future date, the date
    column (the source's name, or "step"), then per series (in ``panel.id_order``) ``<id>``, ``<id> lo-80``, ...;
    a wide table of one series: the date column, then ``forecast``, ``lo-80``, ... (its id is in the notes).
    """
    missing = [c for c in ("unique_id", "ds", "forecast") if c not in forecasts.columns]
    if missing:
        raise LSTMError(
            f"forecasts for {panel.source}: no column {missing[0]!r}; columns are {list(forecasts.columns)}"
        )
    extra = [str(c) for c in forecasts.columns if c not in ("unique_id", "ds", "forecast")]
    known = set(panel.id_order)
    strange = [u for u in pd.unique(forecasts["unique_id"]) if str(u) not in known]
    if strange:
        raise LSTMError(f"forecasts for {panel.source}: series {strange[0]!r} is not in the table")
    keys = forecasts[["unique_id", "ds"]]
    if keys.duplicated().any():
        k = int(np.flatnonzero(keys.duplicated().to_numpy())[0])
        raise LSTMError(
            f"forecasts for {panel.source}: series {keys['unique_id'].iloc[k]!r} has two rows for {keys['ds'].iloc[k]}"
        )
    if panel.shape == "long":
        out = forecasts[["unique_id", "ds", "forecast", *extra]].rename(
            columns={"unique_id": panel.names["unique_id"], "ds": panel.names["ds"]}
        )
        _check_unique(panel, list(out.columns))
        return out.reset_index(drop=True)
    values = ["forecast", *extra]
    if len(panel.id_order) == 1:
        one = forecasts.sort_values("ds", kind="stable")
        return pd.DataFrame({panel.names["ds"]: one["ds"].to_numpy(), **{v: one[v].to_numpy() for v in values}})
    wide = forecasts.pivot(index="ds", columns="unique_id", values=values).sort_index()  # (dates, values x ids)
    present = set(map(str, forecasts["unique_id"]))
    columns: dict[str, Any] = {panel.names["ds"]: wide.index.to_numpy()}
    for uid in (u for u in panel.id_order if u in present):
        for v in values:
            columns[uid if v == "forecast" else f"{uid} {v}"] = wide[(v, uid)].to_numpy(dtype=np.float64)
    _check_unique(panel, [panel.names["ds"], *(u if v == "forecast" else f"{u} {v}" for u in present for v in values)])
    return pd.DataFrame(columns)


def _check_unique(panel: Panel, names: list[Hashable]) -> None:
    seen: set[Hashable] = set()
    for n in names:
        if n in seen:
            raise LSTMError(f"forecasts for {panel.source}: two output columns would be named {n!r}; rename a series")
        seen.add(n)


def write_panel_forecasts(
    forecasts: pd.DataFrame, panel: Panel, path: str | Path, *, expect: Seen | None = None
) -> Path:
    """Forecasts in the source's shape, as .csv (ISO dates), .parquet or .xlsx (real dates), written whole or
    not at all (``expect``: what ``path`` held when the run began; a file changed since is not replaced)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WRITE_SUFFIXES:
        raise LSTMError(
            f"{path.name}: forecasts are written as {', '.join(WRITE_SUFFIXES)} (got {suffix or 'no extension'})"
        )
    if panel.path is not None:
        refuse_input(path, [panel.path], "forecasts' file")
    check_finite_forecasts(forecasts, path.name)  # on the long frame: a wide one has blanks where series end
    atomic_write(path, table_writer(path, forecast_frame_shape(forecasts, panel)), expect=expect, what="forecast")
    return path


def table_writer(path: Path, frame: pd.DataFrame) -> Callable[[BinaryIO], object]:
    """What writes ``frame`` as ``path``'s suffix says (.csv with ISO dates, .parquet, .xlsx), for ``atomic_write``."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv_writer(frame)
    if suffix == ".parquet":
        return _parquet_writer(path, frame)
    if suffix == ".xlsx":
        return _xlsx_writer(path, frame)
    raise LSTMError(f"{path.name}: tables are written as {', '.join(WRITE_SUFFIXES)} (got {suffix or 'no extension'})")


def _iso(values: pd.Series) -> pd.Series:
    """Dates as ISO text: 2024-01-31, or 2024-01-31T13:00:00 when some hold a time of day."""
    index = pd.DatetimeIndex(values)
    fmt = "%Y-%m-%d" if (index == index.normalize()).all() else "%Y-%m-%dT%H:%M:%S"
    return pd.Series(index.strftime(fmt), index=values.index)


def _csv_writer(frame: pd.DataFrame) -> Callable[[BinaryIO], object]:
    """CSV as data: every text exactly as it is (no quote is put before "=", "+", "-" or "@": see
    docs/safety.md). Lines end in "\\n", or in RFC 4180's "\\r\\n" when some text holds a carriage
    return, which Python 3.11's csv quotes only when it is part of the line end."""
    out = frame.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c].dtype):
            out[c] = _iso(out[c])
    texts = [str(c) for c in out.columns] + [
        v
        for c in out.columns
        if not pd.api.types.is_numeric_dtype(out[c].dtype)
        for v in out[c].tolist()
        if isinstance(v, str)
    ]
    end = "\r\n" if any("\r" in t for t in texts) else "\n"
    text = out.to_csv(index=False, lineterminator=end)
    return lambda fh: fh.write(text.encode("utf-8"))


def _parquet_writer(path: Path, frame: pd.DataFrame) -> Callable[[BinaryIO], object]:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise LSTMError(f"{path.name}: writing Parquet needs pyarrow (pip install pyarrow)") from None
    return lambda fh: frame.to_parquet(fh, engine="pyarrow", index=False)


def _xlsx_writer(path: Path, frame: pd.DataFrame) -> Callable[[BinaryIO], object]:
    """Ids, headers and any other text through ``put_value`` (a text cell: never a formula, an error
    value or cut short); numbers as plain numbers (checked finite a column at a time, blank for NaN:
    a number cannot become a formula, and a cell object per number made the writer ~20% slower); dates as
    real dates in the column's format."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    if len(frame) + 1 > SHEET_ROWS or len(frame.columns) > SHEET_COLUMNS:
        raise LSTMError(
            f"{path.name}: {len(frame):,} rows x {len(frame.columns):,} columns do not fit on a worksheet "
            f"({SHEET_ROWS:,} x {SHEET_COLUMNS:,}); write .csv or .parquet"
        )
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("forecasts")
    letters = [get_column_letter(j + 1) for j in range(len(frame.columns))]
    hint = "; write the forecasts as .csv or .parquet, which keep it whole"

    def where(r: int, j: int) -> Callable[[], str]:
        return lambda: f"{path.name}: cell {letters[j]}{r}"

    def cell(v: Any, r: int, j: int, fmt: str | bool | None = None) -> Any:
        out = put_value(WriteOnlyCell(ws), v, where(r, j), hint)
        if isinstance(fmt, str) and out.value is not None:
            out.number_format = fmt
        return out

    columns: list[list[Any]] = []  # (columns, rows): plain numbers, or what ``cell`` makes a cell of, row by row
    formats: list[str | None | bool] = []  # a date column's format, False for numbers, None for the rest
    for j, c in enumerate(frame.columns):
        col = frame[c]
        if pd.api.types.is_datetime64_any_dtype(col.dtype):
            index = pd.DatetimeIndex(col)
            formats.append("yyyy-mm-dd" if (index == index.normalize()).all() else "yyyy-mm-dd hh:mm:ss")
            columns.append(col.tolist())
        elif pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
            values = col.to_numpy(dtype=np.float64, na_value=np.nan)  # (rows,)
            bad = np.flatnonzero(np.isinf(values))
            if len(bad):
                cell(values[bad[0]], int(bad[0]) + 2, j)  # refused, naming the cell
            kept = col.astype(object).where(~np.isnan(values), None).tolist()
            formats.append(False)
            columns.append([v.item() if isinstance(v, np.generic) else v for v in kept])
        else:
            formats.append(None)
            columns.append(col.tolist())
    try:
        ws.append([cell(str(c), 1, j) for j, c in enumerate(frame.columns)])
        for i, row in enumerate(zip(*columns, strict=True), start=2):
            ws.append(
                [v if f is False else cell(v, i, j, f) for j, (v, f) in enumerate(zip(row, formats, strict=True))]
            )
    except BaseException:
        ws.close()  # its temporary file, which openpyxl would leave open
        raise
    return wb.save
