"""Many series in one table (a panel): read into the long format, strictly, and forecasts written back.

``read_panel(path)`` and ``panel_from_frame(df)`` give a ``Panel``: the series as one *long*
frame ``unique_id, ds, y`` (the format statsforecast, neuralforecast and darts use), with
the table's one frequency and what the source looked like. ``future_dates`` lays out the
steps to forecast, and ``write_panel_forecasts`` writes the forecaster's long frame back in
the source's own shape (``forecast_frame_shape``): long with the user's column names, or
wide with one column per series and its intervals.

Layouts:

- long: an id column, a date column and a value column, found by name (``unique_id``,
  ``ds``, ``y`` in any case, or the names given), or a table of exactly three columns
  holding ids, dates (or step numbers) and numbers, in that order;
- wide: every other table. Its first column (or the one named ``ds`` or ``ds_col``) holds
  the dates when most of its cells are dates, or step numbers when they count up by one;
  a DataFrame's DatetimeIndex is that column too; without one the rows are steps 1..T.
  Every other column is one series, its header the series' id. Blank cells before a
  series' first value or after its last are not part of it (series of different lengths);
  a blank inside is refused.

Strictly means: no row is dropped; every problem is one ``LSTMError`` line naming the
file (or "the table"), the series, the cell or date, and what to do. Numbers in CSV text
follow ``csv_column``'s rules (plain decimals; decimal commas beside ``;`` or tab; a
missing-value marker such as 'n/a' is refused by name); Parquet and workbook cells come
typed. Whole numbers in the date column are step numbers (``ds`` int64), kept as written:
a column of years 2001, 2002, ... is steps 2001, 2002, ... . Text dates are read as ISO
8601 when they all are, else in any form pandas reads, month first (01/02/2021 is 2
January). The dates follow one frequency for the whole table (``series_file``'s
``frequency_code``), told from a series of 3 dates or more; a series of one or two dates
takes the table's. A regular frequency that ``FREQUENCIES`` does not know (every 15
minutes, every 2 months) keeps its dates and code, with ``STEPS``' season and hold-out.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from ..core.errors import LSTMError
from ..core.files import atomic_write
from .csv_column import decimal_comma, describe, load_text, plain_number, read_cells
from .series_file import STEPS, Frequency, frequency_code, frequency_of

__all__ = [
    "MAX_CELLS",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "Panel",
    "forecast_frame_shape",
    "future_dates",
    "panel_from_frame",
    "read_panel",
    "table_writer",
    "write_panel_forecasts",
]

MAX_FILE_BYTES = 1 << 30  # a table file larger than this is refused before it is read
MAX_ROWS = 10_000_000  # rows of a source table, and of the long frames made from it
MAX_CELLS = 30_000_000  # rows x columns of a source table, checked before its cells are parsed
SHEET_ROWS, SHEET_COLUMNS = 1_048_576, 16_384  # what one worksheet holds
READ_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".xlsx", ".xlsm")
WRITE_SUFFIXES = (".csv", ".parquet", ".xlsx")
DEFAULT_NAMES = ("unique_id", "ds", "y")
_SAMPLE = 1000  # cells looked at to tell what a column holds (all of them are checked afterwards)
_INT = re.compile(r"[+-]?\d+")


@dataclass(frozen=True)
class Panel:
    """Many series of one frequency, as a long frame, and how the source was laid out."""

    long: pd.DataFrame  # unique_id (str), ds (datetime64[ns] or int64 steps), y (float64); sorted by unique_id, ds
    shape: str  # "long" or "wide": what the source looked like, so results are written back the same way
    frequency: Frequency  # one for the whole table: FREQUENCIES' or STEPS
    freq_code: str | None  # pandas offset code of the dates ("MS", "QS-OCT"), None for step numbers
    source: str  # e.g. "sales.csv (wide: 3 series, monthly)"
    id_order: list[str]  # series in the source's order (columns of a wide table, first rows of a long one)
    names: dict[str, str]  # the user's names of "unique_id", "ds", "y" (wide: the date column's, or "step")
    path: Path | None = None  # the file read, which write_panel_forecasts never overwrites


# ---- the source as columns of cells ------------------------------------------------------------
@dataclass(frozen=True)
class _Table:
    """A source table: a header and one column of cells per name."""

    source: str  # "sales.csv" or "the table": the start of every message
    names: list[str]  # headers
    columns: list[pd.Series]  # (rows,) each: text (CSV), Python objects (workbook) or typed values (frames)
    sep: str  # a CSV's separator (decimal commas are decided by it), "" for typed cells
    where: Callable[[int, int | None], str]  # (row, column or None) -> "line 7, column 'b'", "cell B7", "index 5"

    @property
    def rows(self) -> int:
        return len(self.columns[0]) if self.columns else 0


def _too_big(source: str, what: str) -> LSTMError:
    return LSTMError(
        f"{source}: {what} is over the limit of {MAX_ROWS:,} rows and {MAX_CELLS:,} cells read at once; "
        "split the table into smaller files"
    )


def _check_budget(source: str, rows: int, columns: int, what: str = "") -> None:
    """Refuse a table of more than MAX_ROWS rows or MAX_CELLS cells (``what`` says its size)."""
    if rows > MAX_ROWS or rows * columns > MAX_CELLS:
        raise _too_big(source, what or f"{rows:,} rows x {columns:,} columns")


def _check_names(source: str, names: list[str], blank_first: bool) -> None:
    for k, name in enumerate(names):
        if name == "" and not (k == 0 and blank_first):
            raise LSTMError(f"{source}: column {k + 1} has no header; name every column in the first row")
        if names.index(name) != k:
            raise LSTMError(f"{source}: two columns are named {name!r}; give every column its own name")


def _csv_table(path: Path) -> _Table:
    text = load_text(str(path))
    lines = text.count("\n") + (not text.endswith("\n"))
    head = text.lstrip("\ufeff").split("\n", 1)[0]
    _check_budget(path.name, lines - 1, 1 + max(head.count(s) for s in (",", ";", "\t")), f"{lines:,} lines")
    cells = read_cells(path.name, text)
    if not cells.has_header:
        raise LSTMError(f"{path.name}: its first line holds only numbers; add a header line naming the columns")
    names, width = cells.names, len(cells.names)
    if not cells.body:
        raise LSTMError(f"{path.name}: holds a header but no rows")
    for line, row in cells.body:
        if not any(f.strip() for f in row):
            raise LSTMError(f"{path.name}: line {line} is blank; every row must hold data (fill or remove it)")
        if len(row) != width:
            raise LSTMError(f"{path.name}: line {line} has {len(row)} fields, the header {width}")
    _check_names(path.name, names, blank_first=True)
    columns = [pd.Series([r[k].strip() for _, r in cells.body], dtype=object) for k in range(width)]
    line_of = [line for line, _ in cells.body]

    def where(i: int, j: int | None) -> str:
        return f"line {line_of[i]}" + ("" if j is None else f", column {names[j]!r}")

    return _Table(path.name, names, columns, cells.sep, where)


def _excel_table(path: Path) -> _Table:
    from openpyxl import load_workbook
    from openpyxl.utils import range_boundaries

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001  openpyxl raises many kinds for a damaged file
        raise LSTMError(f"{path.name}: cannot read it as a workbook ({type(exc).__name__}); is it damaged?") from None
    try:
        ws = wb.worksheets[0]
        try:  # the sheet's stated size, when it states one: refused before any cell is read
            c0, r0, c1, r1 = range_boundaries(ws.calculate_dimension())
            stated: tuple[int, int] | None = ((r1 or 0) - (r0 or 1), (c1 or 0) - (c0 or 1) + 1)
        except (ValueError, TypeError):
            stated = None
        if stated is not None:
            _check_budget(path.name, *stated)
        rows: list[list[Any]] = []
        count = 0
        for row in ws.iter_rows(values_only=True):  # a sheet that states no size (or a wrong one) is counted
            rows.append(list(row))
            count += len(row)
            if len(rows) > MAX_ROWS + 1 or count > MAX_CELLS:
                raise _too_big(path.name, f"its first sheet, at {len(rows):,} rows and {count:,} cells,")
    except LSTMError:
        raise
    except Exception as exc:  # noqa: BLE001  a damaged sheet fails while it is read, in many ways
        raise LSTMError(f"{path.name}: cannot read its first sheet ({type(exc).__name__}); is it damaged?") from None
    finally:
        wb.close()
    return _sheet_table(path.name, rows)


def _blank(v: Any) -> bool:
    """Is a cell empty: None, NaN, NaT, NA or only spaces?"""
    if v is None or v is pd.NaT or v is pd.NA:
        return True
    if isinstance(v, str):
        return not v.strip()
    if isinstance(v, np.datetime64):
        return bool(np.isnat(v))
    return isinstance(v, float | np.floating) and bool(np.isnan(v))


def _sheet_table(source: str, rows: list[list[Any]]) -> _Table:
    """A worksheet's cells (header in row 1, blank = None) as a table; blank rows at the end are no rows."""
    from openpyxl.utils import get_column_letter

    while rows and all(_blank(v) for v in rows[-1]):
        rows.pop()
    if not rows:
        raise LSTMError(f"{source}: the first sheet is empty")
    width = max(k + 1 for r in rows for k, v in enumerate(r) if not _blank(v))
    names = [str(v).strip() if not _blank(v) else "" for v in (rows[0] + [None] * width)[:width]]
    _check_names(source, names, blank_first=True)
    if len(rows) < 2:
        raise LSTMError(f"{source}: holds a header but no rows")
    body = [(r + [None] * width)[:width] for r in rows[1:]]
    for k, r in enumerate(body):
        if all(_blank(v) for v in r):
            raise LSTMError(f"{source}: row {k + 2} of the first sheet is blank; every row must hold data")
    columns = [pd.Series([r[j] for r in body], dtype=object) for j in range(width)]

    def where(i: int, j: int | None) -> str:
        return f"row {i + 2}" if j is None else f"cell {get_column_letter(j + 1)}{i + 2}"

    return _Table(source, names, columns, "", where)


def _parquet_frame(path: Path) -> pd.DataFrame:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise LSTMError(f"{path.name}: reading Parquet needs pyarrow (pip install pyarrow)") from None
    try:
        meta = pq.ParquetFile(path).metadata
    except Exception as exc:  # noqa: BLE001  pyarrow raises several kinds for a file that is not Parquet
        raise LSTMError(f"{path.name}: cannot read it as Parquet ({type(exc).__name__}); is it damaged?") from None
    _check_budget(path.name, meta.num_rows, meta.num_columns)
    try:
        return pd.read_parquet(path, engine="pyarrow")
    except Exception as exc:  # noqa: BLE001
        raise LSTMError(f"{path.name}: cannot read it as Parquet ({type(exc).__name__}); is it damaged?") from None


def _frame_table(df: pd.DataFrame, source: str) -> _Table:
    """A DataFrame as a table: a DatetimeIndex (or PeriodIndex) becomes its first column."""
    if not isinstance(df, pd.DataFrame):
        raise LSTMError(f"{source}: give a pandas DataFrame, got {type(df).__name__}")
    if isinstance(df.columns, pd.MultiIndex):
        raise LSTMError(f"{source}: has columns of several header levels; flatten them to one name each")
    _check_budget(source, len(df), len(df.columns) + 1)
    labels = df.index
    if isinstance(df.index, pd.MultiIndex) and all(n is not None for n in df.index.names):
        df = df.reset_index()  # e.g. set_index(["unique_id", "ds"])
    elif isinstance(df.index, pd.DatetimeIndex | pd.PeriodIndex):
        index = df.index.to_timestamp() if isinstance(df.index, pd.PeriodIndex) else df.index
        name = str(df.index.name) if df.index.name is not None else "ds"
        if name in map(str, df.columns):
            raise LSTMError(f"{source}: its date index and a column are both named {name!r}; rename one")
        df = df.reset_index(drop=True)
        df.insert(0, name, pd.Series(index, index=df.index))
    names = [str(c) for c in df.columns]
    _check_names(source, names, blank_first=False)
    if not names:
        raise LSTMError(f"{source}: has no columns")
    if len(df) == 0:
        raise LSTMError(f"{source}: has columns but no rows")

    def where(i: int, j: int | None) -> str:
        return f"index {labels[i]}" + ("" if j is None else f", column {names[j]!r}")

    return _Table(source, names, [df.iloc[:, j] for j in range(len(names))], "", where)


# ---- what a cell holds -----------------------------------------------------------------------------
def _cell_kind(v: Any) -> str:
    """'blank', 'int', 'number', 'date' or 'text'."""
    if _blank(v):
        return "blank"
    if isinstance(v, str):
        t = v.strip()
        if _INT.fullmatch(t):
            return "int"
        if plain_number(t) is not None or plain_number(t, True) is not None:
            return "number"
        return "date" if _text_date(t) is not None else "text"
    if isinstance(v, bool | np.bool_):
        return "text"
    if isinstance(v, int | np.integer):
        return "int"
    if isinstance(v, float | np.floating):
        return "number"
    return "date" if isinstance(v, datetime | date | np.datetime64) else "text"


def _text_date(t: str) -> pd.Timestamp | None:
    """One text cell as a date (naive: a time zone's offset is dropped, its wall time kept), or None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ts = pd.Timestamp(pd.to_datetime(t, format="mixed"))
    except (ValueError, TypeError, OverflowError):
        return None
    return None if ts is pd.NaT else ts.tz_localize(None) if ts.tzinfo is not None else ts


def _kinds(col: pd.Series) -> dict[str, int]:
    """How many of the first non-blank cells (up to _SAMPLE) are of each kind."""
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        return {"date": int(col.notna().sum())}
    counts: dict[str, int] = {}
    seen = 0
    for v in col:
        kind = _cell_kind(v)
        if kind != "blank":
            counts[kind] = counts.get(kind, 0) + 1
            seen += 1
            if seen >= _SAMPLE:
                break
    return counts


def _mostly(counts: dict[str, int], *kinds: str) -> bool:
    hits = sum(counts.get(k, 0) for k in kinds)
    return hits > 0 and hits * 2 >= sum(counts.values())


# ---- columns as numbers, dates and steps ------------------------------------------------------------
def _numbers(col: pd.Series, sep: str) -> tuple[np.ndarray, int | None]:
    """(rows,) float64 with NaN for a blank cell, and the first cell that is not a number (or None)."""
    dtype = col.dtype
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype):
        bad = np.flatnonzero(col.notna().to_numpy())
        return np.full(len(col), np.nan), int(bad[0]) if len(bad) else None
    if pd.api.types.is_numeric_dtype(dtype):
        values = col.to_numpy(dtype=np.float64, na_value=np.nan)
        inf = np.flatnonzero(np.isinf(values))
        return values, int(inf[0]) if len(inf) else None
    cells = col.tolist()
    comma = bool(sep) and decimal_comma([c for c in cells if isinstance(c, str) and c.strip()], sep)
    out = np.empty(len(cells))
    for i, v in enumerate(cells):
        if _blank(v):
            out[i] = np.nan
            continue
        if isinstance(v, str):
            x = plain_number(v, comma)
        elif isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool | np.bool_):
            x = float(v)
        else:
            x = None
        if x is None or not np.isfinite(x):
            return out, i
        out[i] = x
    return out, None


def _shown(v: Any) -> str:
    """A cell as it reads: 'text', 12, 1.5, 2024-01-31 00:00:00."""
    v = v.item() if isinstance(v, np.generic) else v
    return repr(v) if isinstance(v, str | int | float) else str(v)


def _cell_text(v: Any) -> str:
    """What a refused cell holds, in words (csv_column's words for text)."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, str):
        return describe(v)
    if isinstance(v, float) and np.isinf(v):
        return f"{v}, not a finite number"
    if isinstance(v, datetime | date):
        return f"the date {v}, not a number"
    return f"{v!r} ({type(v).__name__}), not a number"


def _steps(col: pd.Series) -> tuple[np.ndarray, np.ndarray, int | None]:
    """A column of step numbers: (rows,) int64, (rows,) blank mask, the first cell that is not a whole number."""
    n = len(col)
    if pd.api.types.is_integer_dtype(col.dtype):
        blank = col.isna().to_numpy()
        return col.to_numpy(dtype=np.int64, na_value=0), blank, None
    out, blank = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
    for i, v in enumerate(col.tolist()):
        if _blank(v):
            blank[i] = True
            continue
        step = _whole(v)
        if step is None:
            return out, blank, i
        out[i] = step
    return out, blank, None


def _whole(v: Any) -> int | None:
    """A cell's whole number (text '12', 12, 12.0) within int64's reach, or None."""
    if isinstance(v, str) and _INT.fullmatch(v.strip()):
        k = int(v.strip())
    elif isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_):
        k = int(v)
    elif isinstance(v, float | np.floating) and float(v).is_integer():
        k = int(v)
    else:
        return None
    return k if abs(k) < 2**62 else None


def _dates(col: pd.Series) -> tuple[np.ndarray, np.ndarray, int | None]:
    """A column of dates: (rows,) datetime64[ns] (NaT for a blank), blank mask, the first cell that is not a date.

    Text is parsed once per distinct value (ISO 8601 first, then any form pandas reads); numbers are not dates."""
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        values = pd.DatetimeIndex(col)
        if values.tz is not None:
            values = values.tz_localize(None)
        try:
            ns = values.as_unit("ns").to_numpy()
        except (OverflowError, ValueError):
            return np.full(len(col), np.datetime64("NaT", "ns")), np.zeros(len(col), dtype=bool), 0
        return ns, np.isnat(ns), None
    cells = col.tolist()
    blank = np.fromiter((_blank(v) for v in cells), dtype=bool, count=len(cells))
    texts = {v.strip() for v, b in zip(cells, blank, strict=True) if not b and isinstance(v, str)}
    parsed = _parse_texts(sorted(texts))
    out = np.full(len(cells), np.datetime64("NaT", "ns"))
    for i, v in enumerate(cells):
        if blank[i]:
            continue
        ts = parsed.get(v.strip()) if isinstance(v, str) else _typed_date(v)
        if ts is None:
            return out, blank, i
        out[i] = ts
    return out, blank, None


def _typed_date(v: Any) -> np.datetime64 | None:
    if not isinstance(v, datetime | date | np.datetime64):
        return None
    try:
        ts = pd.Timestamp(v)
        return (ts.tz_localize(None) if ts.tzinfo is not None else ts).as_unit("ns").to_datetime64()
    except (ValueError, OverflowError):
        return None


def _parse_texts(texts: list[str]) -> dict[str, np.datetime64 | None]:
    """Distinct text cells -> their date, or None for a number or text that is no date."""
    dates = [t for t in texts if plain_number(t) is None and plain_number(t, True) is None]
    found: dict[str, np.datetime64 | None] = dict.fromkeys(texts)
    for fmt in ("ISO8601", "mixed"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                index = pd.DatetimeIndex(pd.to_datetime(pd.Series(dates, dtype=object), format=fmt))
        except (ValueError, TypeError, OverflowError):
            continue
        if index.tz is not None:
            index = index.tz_localize(None)
        values = index.as_unit("ns").to_numpy()
        found.update((t, None if np.isnat(d) else d) for t, d in zip(dates, values, strict=True))  # 'NaT' is no date
        return found
    for t in dates:  # some cell is no date (or they mix time zones): one at a time
        ts = _text_date(t)
        try:
            found[t] = None if ts is None else ts.as_unit("ns").to_datetime64()
        except (ValueError, OverflowError):
            found[t] = None
    return found


def _time_column(col: pd.Series) -> str | None:
    """'dates' if most cells are dates, 'steps' if every cell is a whole number counting up by one, else None."""
    counts = _kinds(col)
    if _mostly(counts, "date"):
        return "dates"
    if set(counts) == {"int"}:
        values, blank, bad = _steps(col)
        if bad is None and not blank.any() and bool((np.diff(values) == 1).all()):
            return "steps"
    return None


# ---- which layout -----------------------------------------------------------------------------------
def _find(table: _Table, given: str | None, default: str, role: str) -> int | None:
    """The position of the column named ``given`` (refused if absent), or of ``default`` in any case."""
    names = table.names
    if given is not None:
        if given in names:
            return names.index(given)
        folded = [k for k, n in enumerate(names) if n.casefold() == given.casefold()]
        if len(folded) == 1:
            return folded[0]
        raise LSTMError(f"{table.source}: no column {given!r} for {role}; columns are {', '.join(map(repr, names))}")
    if default in names:
        return names.index(default)
    folded = [k for k, n in enumerate(names) if n.casefold() == default]
    return folded[0] if len(folded) == 1 else None


def _three_columns_long(table: _Table) -> bool:
    """Three columns holding ids, dates (or step numbers) and numbers: a long table without the usual names."""
    if len(table.names) != 3:
        return False
    ids, ds, ys = (_kinds(c) for c in table.columns)
    numbers = _mostly(ys, "number", "int")
    if _mostly(ids, "text") and _mostly(ds, "date", "int") and numbers:
        return True
    return not _mostly(ids, "date") and _mostly(ds, "date") and numbers  # a wide table's dates come first


def _layout(table: _Table, id_col: str | None, ds_col: str | None, y_col: str | None) -> tuple[int, int, int] | None:
    """(id, ds, y) column positions of a long table, or None for a wide one."""
    given = (id_col, ds_col, y_col)
    roles = ("the series ids (id_col)", "the dates (ds_col)", "the values (y_col)")
    found = [_find(table, g, d, r) for g, d, r in zip(given, DEFAULT_NAMES, roles, strict=True)]
    for a in range(3):
        for b in range(a + 1, 3):
            same = found[a]
            if same is not None and same == found[b]:
                raise LSTMError(
                    f"{table.source}: column {table.names[same]!r} cannot be both {roles[a]} and {roles[b]}"
                )
    if found[0] is None and found[2] is None:
        if not _three_columns_long(table) or (found[1] is not None and found[1] != 1):
            return None
        return 0, 1, 2
    if None in found:
        rest = [k for k in range(len(table.names)) if k not in found]
        if len(table.names) != 3:
            missing = next(r for r, f in zip(roles, found, strict=True) if f is None)
            raise LSTMError(
                f"{table.source}: a long table needs a column for {missing}: name it "
                f"(columns are {', '.join(map(repr, table.names))})"
            )
        found = [f if f is not None else rest.pop(0) for f in found]
    i, d, y = (int(f) for f in found if f is not None)
    return i, d, y


# ---- building the long frame ------------------------------------------------------------------------
def _stamp(ts: pd.Timestamp) -> str:
    return str(ts.date()) if ts == ts.normalize() else str(ts)


def _when(values: np.ndarray, i: int) -> str:
    """Row ``i``'s date (2024-01-31) or step ("step 7") in words."""
    v = values[i]
    return _stamp(pd.Timestamp(v)) if isinstance(v, np.datetime64) else f"step {v}"


def _long_from_long(table: _Table, cols: tuple[int, int, int]) -> tuple[pd.DataFrame, list[str]]:
    """(long frame with a 'row' column: each value's source row, id_order) of a long table."""
    src, (ji, jd, jy) = table.source, cols
    id_cells = table.columns[ji]
    ids = np.array([v.strip() if isinstance(v, str) else "" if _blank(v) else str(v) for v in id_cells], dtype=object)
    empty = np.flatnonzero(ids == "")
    if len(empty):
        raise LSTMError(f"{src}: {table.where(int(empty[0]), ji)} has no series id; every row needs one")
    ds_col = table.columns[jd]
    ds, blank, bad = _steps(ds_col) if _all_steps(ds_col) else _dates(ds_col)
    if bad is not None:
        raise LSTMError(
            f"{src}: series {ids[bad]!r}, {table.where(bad, jd)} holds {_shown(ds_col.iloc[bad])}, not a date; "
            "fix it (dates such as 2024-01-31, or whole step numbers)"
        )
    if blank.any():
        k = int(np.flatnonzero(blank)[0])
        raise LSTMError(f"{src}: series {ids[k]!r}, {table.where(k, jd)} has no date; every row needs one")
    y, bad = _numbers(table.columns[jy], table.sep)
    if bad is not None:
        raise LSTMError(
            f"{src}: series {ids[bad]!r} at {_when(ds, bad)}, {table.where(bad, jy)} holds "
            f"{_cell_text(table.columns[jy].iloc[bad])}; fix or remove it first"
        )
    long = pd.DataFrame({"unique_id": id_column(ids), "ds": ds, "y": y, "row": np.arange(len(ids))})
    long = long.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
    _check_duplicates(table, long, jd)
    _check_blank_values(table, long, jy)
    return long, [str(v) for v in pd.unique(ids)]


def _all_steps(col: pd.Series) -> bool:
    """Does every filled cell hold a whole number (step numbers, not dates)?"""
    if pd.api.types.is_integer_dtype(col.dtype):
        return True
    if pd.api.types.is_float_dtype(col.dtype):  # whole numbers stored as floats; _steps names one that is not
        return bool(col.notna().any())
    if col.dtype != object:
        return False
    ints = (
        _blank(v)
        or (isinstance(v, str) and _INT.fullmatch(v.strip()) is not None)
        or (isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_))
        for v in col
    )
    return all(ints) and not col.map(_blank).all()


def _check_duplicates(table: _Table, long: pd.DataFrame, jd: int) -> None:
    same = (long["unique_id"].to_numpy() == long["unique_id"].shift(-1).to_numpy()) & (
        long["ds"].to_numpy() == long["ds"].shift(-1).to_numpy()
    )
    if same.any():
        k = int(np.flatnonzero(same)[0])
        a, b = sorted(int(r) for r in long["row"].iloc[k : k + 2])
        raise LSTMError(
            f"{table.source}: series {long['unique_id'].iloc[k]!r} has two rows for "
            f"{_when(long['ds'].to_numpy(), k)} ({table.where(a, None)} and {table.where(b, None)}); keep one"
        )


def _check_blank_values(table: _Table, long: pd.DataFrame, jy: int) -> None:
    """A long table's blank value: refused, naming the series and date (or the series, if all are blank)."""
    missing = long["y"].isna().to_numpy()
    if not missing.any():
        return
    k = int(np.flatnonzero(missing)[0])
    uid = long["unique_id"].iloc[k]
    rows = long["unique_id"].to_numpy() == uid
    if missing[rows].all():
        raise LSTMError(
            f"{table.source}: series {uid!r} has no values (its {int(rows.sum())} rows are blank in column "
            f"{table.names[jy]!r}); fill them or remove the series"
        )
    raise LSTMError(
        f"{table.source}: series {uid!r} has no value at {_when(long['ds'].to_numpy(), k)} "
        f"({table.where(int(long['row'].iloc[k]), jy)}); fill it or remove the row"
    )


def _long_from_wide(table: _Table, jt: int | None, kind: str | None) -> tuple[pd.DataFrame, list[str]]:
    """(long frame with a 'row' column, id_order) of a wide table whose dates or steps are column ``jt``."""
    src, n = table.source, table.rows
    if jt is None:
        times: np.ndarray = np.arange(1, n + 1, dtype=np.int64)
    else:
        col = table.columns[jt]
        times, blank, bad = _steps(col) if kind == "steps" else _dates(col)
        if bad is not None:
            raise LSTMError(
                f"{src}: {table.where(bad, jt)} holds {_shown(col.iloc[bad])}, not a date; "
                f"fix it (the column {table.names[jt]!r} holds the dates of every series)"
            )
        if blank.any():
            k = int(np.flatnonzero(blank)[0])
            raise LSTMError(f"{src}: {table.where(k, jt)} has no date; every row of a wide table needs its date")
        back = np.flatnonzero(times[1:] <= times[:-1])
        if len(back):
            k = int(back[0]) + 1
            how = "repeats" if times[k] == times[k - 1] else "comes before"
            raise LSTMError(
                f"{src}: {table.where(k, jt)}: {_when(times, k)} {how} {_when(times, k - 1)} above it; "
                "the dates of a wide table must increase, one row per date"
            )
    pieces, order = [], []
    for j, (name, col) in enumerate(zip(table.names, table.columns, strict=True)):
        if j == jt:
            continue
        values, bad = _numbers(col, table.sep)
        if bad is not None:
            raise LSTMError(
                f"{src}: series {name!r} at {_when(times, bad)}, {table.where(bad, j)} holds "
                f"{_cell_text(col.iloc[bad])}; fix it (or leave it empty before the series starts or after it ends)"
            )
        held = np.flatnonzero(~np.isnan(values))
        if not len(held):
            raise LSTMError(f"{src}: series {name!r} is blank in every row; remove the column or fill it")
        first, last = int(held[0]), int(held[-1])
        gaps = np.flatnonzero(np.isnan(values[first : last + 1]))
        if len(gaps):
            k = first + int(gaps[0])
            raise LSTMError(
                f"{src}: series {name!r} has a gap at {_when(times, k)} ({table.where(k, j)} is empty) inside "
                "the series; fill it (only cells before its first value or after its last may be empty)"
            )
        span = slice(first, last + 1)
        rows = np.arange(first, last + 1)
        pieces.append(pd.DataFrame({"unique_id": name, "ds": times[span], "y": values[span], "row": rows}))
        order.append(name)
    if not pieces:
        raise LSTMError(f"{src}: holds dates but no series; add a column of numbers per series")
    long = pd.concat(pieces, ignore_index=True)
    long["unique_id"] = id_column(long["unique_id"])
    long = long.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
    return long, order


def id_column(ids: Any) -> pd.Series:
    """Series ids (n,) as one column of text of dtype object, under every pandas: pandas 3
    would infer its own string dtype, pandas 2 object; one dtype keeps every table we return
    the same, whichever pandas is installed."""
    return pd.Series(np.asarray(ids, dtype=object), dtype=object)


# ---- one frequency ---------------------------------------------------------------------------------
def _offset(code: str) -> Any:
    from pandas.tseries.frequencies import to_offset

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return to_offset(code)


def _add(ds: pd.Series | pd.DatetimeIndex, offset: Any) -> Any:
    with warnings.catch_warnings():  # some offsets are applied one date at a time and say so
        warnings.simplefilter("ignore")
        return ds + offset


def _say(code: str) -> str:
    f = frequency_of(code)
    return f"{f.adjective} ({code})" if f is not None else f"every {code}"


def _table_frequency(source: str, long: pd.DataFrame, id_order: list[str]) -> tuple[Frequency, str | None]:
    """The table's one frequency and offset code (None for step numbers), or one line on the first series off it."""
    uid, ds = long["unique_id"].to_numpy(), long["ds"]
    same = uid[1:] == uid[:-1]  # (rows - 1,) this row and the next are one series
    if not pd.api.types.is_datetime64_any_dtype(ds.dtype):
        steps = ds.to_numpy()
        jump = np.flatnonzero(same & (np.diff(steps) != 1))
        if len(jump):
            k = int(jump[0]) + 1
            raise LSTMError(
                f"{source}: series {uid[k]!r}: step {steps[k]} follows step {steps[k - 1]}; step numbers go up by 1 "
                "(add the missing rows, or write the dates as dates, e.g. 2024-01-31)"
            )
        return STEPS, None
    starts = np.flatnonzero(np.r_[True, ~same])
    sizes = np.diff(np.r_[starts, len(uid)])
    where = dict(zip(uid[starts], zip(starts, sizes, strict=True), strict=True))
    first = next((u for u in id_order if where[u][1] >= 3), None)
    if first is None:
        union = pd.DatetimeIndex(np.unique(ds.to_numpy()))
        if len(union) < 3:
            raise LSTMError(
                f"{source}: every series has fewer than 3 dates (the table {len(union)}); "
                "the frequency cannot be told: give at least 3 dates"
            )
        code = frequency_code(union)
        if code is None:
            raise LSTMError(
                f"{source}: its dates ({_stamp(union[0])}, {_stamp(union[1])}, ...) follow no one frequency"
            )
    else:
        s0, n0 = where[first]
        code = frequency_code(pd.DatetimeIndex(ds.iloc[s0 : s0 + n0]))
        if code is None:
            raise LSTMError(_irregular(source, first, pd.DatetimeIndex(ds.iloc[s0 : s0 + n0])))
    offset = _offset(code)
    values = pd.DatetimeIndex(ds)
    off_calendar = np.flatnonzero(_add(_add(values, -offset), offset) != values)
    off_step = np.flatnonzero(same & (values[1:] != _add(values[:-1], offset)))
    if len(off_calendar) or len(off_step):
        k = min([int(off_calendar[0])] if len(off_calendar) else [], default=len(uid))
        k = min(k, int(off_step[0]) + 1 if len(off_step) else len(uid))
        u = str(uid[k])
        s, n = where[u]
        own = frequency_code(pd.DatetimeIndex(ds.iloc[s : s + n])) if n >= 3 else None
        if own is not None and own != code:
            raise LSTMError(
                f"{source}: series {u!r} is {_say(own)} but series {first!r} is {_say(code)}; "
                "one table holds series of one frequency: split it into one file per frequency"
            )
        if len(off_calendar) and int(off_calendar[0]) == k:  # a series' first date is never off a step
            raise LSTMError(
                f"{source}: series {u!r}: {_when(values.to_numpy(), k)} is not a date of the table's "
                f"{_say(code)} calendar; fix the date (e.g. {_when(_add(values[k : k + 1], -offset).to_numpy(), 0)})"
            )
        expected = _add(values[k - 1 : k], offset)
        raise LSTMError(
            f"{source}: series {u!r}: {_when(values.to_numpy(), k)} follows {_when(values.to_numpy(), k - 1)}, but the "
            f"table is {_say(code)}: the next date is {_when(expected.to_numpy(), 0)}; add the missing rows or fix the date"
        )
    f = frequency_of(code)
    return (f if f is not None else STEPS), code


def _irregular(source: str, uid: str, dates: pd.DatetimeIndex) -> str:
    """One line on where a series' dates stop being regular."""
    code = frequency_code(dates[:3])
    if code is None:
        return (
            f"{source}: series {uid!r}: its first dates {', '.join(_stamp(d) for d in dates[:3])} are not "
            "one step apart; the dates must follow one frequency (fix them or add the missing rows)"
        )
    expected = pd.date_range(dates[0], periods=len(dates), freq=code)
    off = np.flatnonzero(expected != dates)
    if not len(off):
        return f"{source}: series {uid!r}: its dates follow no frequency pandas can tell; fix them"
    k = int(off[0])
    return (
        f"{source}: series {uid!r}: {_stamp(dates[k])} follows {_stamp(dates[k - 1])}, but its dates before it are "
        f"{_say(code)} (the next would be {_stamp(expected[k])}); add the missing rows or fix the date"
    )


# ---- panels -----------------------------------------------------------------------------------------
def _panel(table: _Table, id_col: str | None, ds_col: str | None, y_col: str | None, path: Path | None) -> Panel:
    if not table.names or table.rows == 0:
        raise LSTMError(f"{table.source}: is empty; it needs a header and rows")
    cols = _layout(table, id_col, ds_col, y_col)
    if cols is not None:
        long, order = _long_from_long(table, cols)
        shape, names = "long", {k: table.names[j] for k, j in zip(DEFAULT_NAMES, cols, strict=True)}
        unused = [n for j, n in enumerate(table.names) if j not in cols]
    else:
        named = _find(table, ds_col, "ds", "the dates (ds_col)")
        jt: int | None = named if named is not None else 0
        kind = _time_column(table.columns[jt]) if jt is not None else None
        if kind == "steps" and len(table.names) == 1:  # a lone column of whole numbers is a series
            kind = None
        if ds_col is not None and kind is None:
            raise LSTMError(f"{table.source}: column {ds_col!r} (ds_col) holds neither dates nor step numbers")
        if kind is None:
            jt = None
        if jt is not None and table.sep and kind == "dates" and _text_date(table.names[jt]) is not None:
            raise LSTMError(
                f"{table.source}: its first line starts with {table.names[jt]!r}, a date; add a header line naming "
                "the columns (e.g. date,sales)"
            )
        if jt is None and "" in table.names:
            raise LSTMError(f"{table.source}: column 1 has no header; name every column in the first row")
        long, order = _long_from_wide(table, jt, kind)
        shape, unused = "wide", []
        date_name = "step" if jt is None else table.names[jt] or "ds"  # an unnamed index column (to_csv) is "ds"
        names = {"unique_id": "unique_id", "ds": date_name, "y": "y"}
    _check_budget(table.source, len(long), 3, f"{len(long):,} values")
    frequency, code = _table_frequency(table.source, long, order)
    long = long.drop(columns="row")
    long["y"] = long["y"].astype(np.float64)
    if code is None:
        long["ds"] = long["ds"].astype(np.int64)
    said = frequency.adjective if code is not None and frequency is not STEPS else f"every {code}" if code else "steps"
    note = f"; column{'s' * (len(unused) > 1)} {', '.join(map(repr, unused))} not used" if unused else ""
    source = f"{table.source} ({shape}: {len(order)} series, {said}{note})"
    return Panel(long, shape, frequency, code, source, order, names, path)


def panel_from_frame(
    df: pd.DataFrame,
    *,
    id_col: str | None = None,
    ds_col: str | None = None,
    y_col: str | None = None,
    source: str = "the table",
) -> Panel:
    """A DataFrame, long or wide (see the module's docstring), as a Panel; bad input is one LSTMError line."""
    return _panel(_frame_table(df, source), id_col, ds_col, y_col, None)


def read_panel(
    path: str | Path, *, id_col: str | None = None, ds_col: str | None = None, y_col: str | None = None
) -> Panel:
    """A .csv/.tsv/.txt, .parquet or .xlsx/.xlsm (first sheet) file, long or wide, as a Panel."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in READ_SUFFIXES:
        raise LSTMError(f"{path.name}: give a {', '.join(READ_SUFFIXES)} file (got {suffix or 'no extension'})")
    if not path.is_file():
        raise LSTMError(f"{path}: does not exist" if not path.exists() else f"{path}: is not a file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise LSTMError(f"{path.name}: is {size >> 20:,} MiB, over the limit of {MAX_FILE_BYTES >> 20:,} MiB read")
    if suffix == ".parquet":
        table = _frame_table(_parquet_frame(path), path.name)
    elif suffix in (".xlsx", ".xlsm"):
        table = _excel_table(path)
    else:
        table = _csv_table(path)
    return _panel(table, id_col, ds_col, y_col, path)


# ---- forecasts -------------------------------------------------------------------------------------
def future_dates(panel: Panel, horizon: int) -> pd.DataFrame:
    """unique_id, ds: the ``horizon`` steps after each series' last ds, sorted like ``panel.long``."""
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise LSTMError(f"horizon must be a whole number of steps, at least 1, got {horizon!r}")
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
        offset, ends = _offset(panel.freq_code), pd.DatetimeIndex(last.to_numpy())
        try:
            ahead = [_add(ends, offset * k).to_numpy() for k in range(1, h + 1)]  # (h, series)
        except (OverflowError, ValueError):
            raise LSTMError(f"{panel.source}: {h} steps ahead runs past the last date pandas holds (2262)") from None
        ds = np.stack(ahead, axis=1).ravel().astype("datetime64[ns]")
    return pd.DataFrame({"unique_id": id_column(ids), "ds": ds})


def forecast_frame_shape(forecasts: pd.DataFrame, panel: Panel) -> pd.DataFrame:
    """The forecaster's long frame (unique_id, ds, forecast, then e.g. lo-80, hi-80, ...) in the source's shape.

    long: the same columns, id and ds under the user's names. wide: one row per future date, the date
    column (the source's name, or "step"), then per series (in ``panel.id_order``) ``<id>``, ``<id> lo-80``, ...
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
            if _blank(v):
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
