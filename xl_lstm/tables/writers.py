"""Forecasts out: the steps to forecast, the forecaster's frame in the source's shape, and table files by suffix.

``future_dates`` lays out the steps to forecast, and ``write_panel_forecasts`` writes the
forecaster's long frame back in the source's own shape (``forecast_frame_shape``): long with
the user's column names, or wide with one column per series and its intervals; ``table_writer``
writes any frame as .csv (ISO dates), .parquet or .xlsx (real dates), for ``atomic_write``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from ..core.checks import check_whole
from ..core.errors import LSTMError
from ..core.files import atomic_write
from ..core.limits import MAX_ROWS, SHEET_COLUMNS, SHEET_ROWS, WRITE_SUFFIXES
from .frequency import add_offset, offset_of
from .panel import Panel, id_column
from .sources import is_blank

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


def write_panel_forecasts(forecasts: pd.DataFrame, panel: Panel, path: str | Path) -> Path:
    """Forecasts in the source's shape, as .csv (ISO dates), .parquet or .xlsx (real dates), written whole or not at all."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WRITE_SUFFIXES:
        raise LSTMError(
            f"{path.name}: forecasts are written as {', '.join(WRITE_SUFFIXES)} (got {suffix or 'no extension'})"
        )
    if panel.path is not None and (
        path.resolve() == panel.path.resolve() or (path.exists() and os.path.samefile(path, panel.path))
    ):
        raise LSTMError(f"{path}: is the table the forecasts are made from; write them to another file")
    atomic_write(path, table_writer(path, forecast_frame_shape(forecasts, panel)))
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
    out = frame.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c].dtype):
            out[c] = _iso(out[c])
    text = out.to_csv(index=False, lineterminator="\n")
    return lambda fh: fh.write(text.encode("utf-8"))


def _parquet_writer(path: Path, frame: pd.DataFrame) -> Callable[[BinaryIO], object]:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise LSTMError(f"{path.name}: writing Parquet needs pyarrow (pip install pyarrow)") from None
    return lambda fh: frame.to_parquet(fh, engine="pyarrow", index=False)


def _xlsx_writer(path: Path, frame: pd.DataFrame) -> Callable[[BinaryIO], object]:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    if len(frame) + 1 > SHEET_ROWS or len(frame.columns) > SHEET_COLUMNS:
        raise LSTMError(
            f"{path.name}: {len(frame):,} rows x {len(frame.columns):,} columns do not fit on a worksheet "
            f"({SHEET_ROWS:,} x {SHEET_COLUMNS:,}); write .csv or .parquet"
        )
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("forecasts")
    ws.append([str(c) for c in frame.columns])
    formats: list[str | None] = []
    for c in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[c].dtype):
            index = pd.DatetimeIndex(frame[c])
            formats.append("yyyy-mm-dd" if (index == index.normalize()).all() else "yyyy-mm-dd hh:mm:ss")
        else:
            formats.append(None)
    for row in frame.itertuples(index=False, name=None):
        cells: list[Any] = []
        for v, fmt in zip(row, formats, strict=True):
            if is_blank(v):
                cells.append(None)
            elif fmt is not None:
                cell = WriteOnlyCell(ws, value=pd.Timestamp(v).to_pydatetime())
                cell.number_format = fmt
                cells.append(cell)
            elif isinstance(v, np.integer):
                cells.append(int(v))
            elif isinstance(v, np.floating):
                cells.append(float(v))
            else:
                cells.append(v)
        ws.append(cells)
    return wb.save
