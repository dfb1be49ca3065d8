"""What a cell holds, and a column of cells as numbers, dates or step numbers, strictly.

Numbers in CSV text follow ``csv_column``'s rules (plain decimals; decimal commas beside
``;`` or tab; a missing-value marker such as 'n/a' is refused by name); Parquet and
workbook cells come typed. Whole numbers in a date column are step numbers, kept as
written. Text dates are read as ISO 8601 when they all are, else in any form pandas
reads, month first (01/02/2021 is 2 January). Each reader returns the first cell it
refuses, for the caller's one-line message; ``shown``, ``cell_text``, ``stamp`` and
``when`` put a cell or a date in words.
"""

from __future__ import annotations

import re
import warnings
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from .csv_column import decimal_comma, describe, plain_number
from .magnitude import first_unfit, is_unfit, unfit_words
from .sources import is_blank

__all__ = [
    "all_steps",
    "as_dates",
    "as_numbers",
    "as_steps",
    "cell_text",
    "header_dates",
    "kinds",
    "mostly",
    "numbered_header",
    "shown",
    "stamp",
    "text_date",
    "time_column",
    "when",
]

_SAMPLE = 1000  # cells looked at to tell what a column holds (all of them are checked afterwards)
_INT = re.compile(r"[+-]?\d+")
_YEAR = re.compile(r"(?<!\d)\d{4}(?!\d)")  # a header date names its year: '2021-01', 'Jan 2021', '2021Q1'
_NUMBERED = re.compile(r"([A-Za-z_ ]*?)(\d+)")  # 'V1', 'x12', '3'


# ---- what a cell holds -----------------------------------------------------------------------------
def _cell_kind(v: Any) -> str:
    """'blank', 'int', 'number', 'date' or 'text'."""
    if is_blank(v):
        return "blank"
    if isinstance(v, str):
        t = v.strip()
        if _INT.fullmatch(t):
            return "int"
        if plain_number(t) is not None or plain_number(t, True) is not None:
            return "number"
        return "date" if text_date(t) is not None else "text"
    if isinstance(v, bool | np.bool_):
        return "text"
    if isinstance(v, int | np.integer):
        return "int"
    if isinstance(v, float | np.floating):
        return "number"
    return "date" if isinstance(v, datetime | date | np.datetime64) else "text"


def text_date(t: str) -> pd.Timestamp | None:
    """One text cell as a date (naive: a time zone's offset is dropped, its wall time kept), or None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ts = pd.Timestamp(pd.to_datetime(t, format="mixed"))
    except (ValueError, TypeError, OverflowError):
        return None
    return None if ts is pd.NaT else ts.tz_localize(None) if ts.tzinfo is not None else ts


def kinds(col: pd.Series) -> dict[str, int]:
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


def mostly(counts: dict[str, int], *kinds: str) -> bool:
    hits = sum(counts.get(k, 0) for k in kinds)
    return hits > 0 and hits * 2 >= sum(counts.values())


# ---- columns as numbers, dates and steps ------------------------------------------------------------
def as_numbers(col: pd.Series, sep: str) -> tuple[np.ndarray, int | None]:
    """(rows,) float64 with NaN for a blank cell, and the first cell that is not a number (or None):
    text, a date, ±inf or a magnitude beyond ``magnitude.MAX_MAGNITUDE`` (every panel reader comes here)."""
    dtype = col.dtype
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype):
        bad = np.flatnonzero(col.notna().to_numpy())
        return np.full(len(col), np.nan), int(bad[0]) if len(bad) else None
    if pd.api.types.is_numeric_dtype(dtype):
        values = col.to_numpy(dtype=np.float64, na_value=np.nan)
        return values, first_unfit(values)
    cells = col.tolist()
    comma = bool(sep) and decimal_comma([c for c in cells if isinstance(c, str) and c.strip()], sep)
    out = np.empty(len(cells))
    for i, v in enumerate(cells):
        if is_blank(v):
            out[i] = np.nan
            continue
        if isinstance(v, str):
            x = plain_number(v, comma)
        elif isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool | np.bool_):
            x = _float(v)
        else:
            x = None
        if x is None or is_unfit(x):
            return out, i
        out[i] = x
    return out, None


def _float(v: Any) -> float:
    """A typed number as float64; an integer too large for one is infinity (refused as such)."""
    try:
        return float(v)
    except OverflowError:
        return float("inf") if v > 0 else float("-inf")


def shown(v: Any) -> str:
    """A cell as it reads: 'text', 12, 1.5, 2024-01-31 00:00:00."""
    v = v.item() if isinstance(v, np.generic) else v
    return repr(v) if isinstance(v, str | int | float) else str(v)


def cell_text(v: Any) -> str:
    """What a refused cell holds, in words (csv_column's words for text)."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, str):
        x = plain_number(v) if plain_number(v) is not None else plain_number(v, True)
        return describe(v) if x is None or not is_unfit(x) else f"{v.strip()!r}: {unfit_words(x)}"
    if isinstance(v, int | float) and not isinstance(v, bool) and is_unfit(_float(v)):
        return unfit_words(_float(v))
    if isinstance(v, datetime | date):
        return f"the date {v}, not a number"
    return f"{v!r} ({type(v).__name__}), not a number"


def as_steps(col: pd.Series) -> tuple[np.ndarray, np.ndarray, int | None]:
    """A column of step numbers: (rows,) int64, (rows,) blank mask, the first cell that is not a whole number."""
    n = len(col)
    if pd.api.types.is_integer_dtype(col.dtype):
        blank = col.isna().to_numpy()
        return col.to_numpy(dtype=np.int64, na_value=0), blank, None
    out, blank = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
    for i, v in enumerate(col.tolist()):
        if is_blank(v):
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


def as_dates(col: pd.Series) -> tuple[np.ndarray, np.ndarray, int | None]:
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
    blank = np.fromiter((is_blank(v) for v in cells), dtype=bool, count=len(cells))
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
        try:
            values = index.as_unit("ns").to_numpy()
        except (ValueError, OverflowError):  # a date before 1677 or after 2262 (e.g. 'M1', year 1): one at a time
            break
        found.update((t, None if np.isnat(d) else d) for t, d in zip(dates, values, strict=True))  # 'NaT' is no date
        return found
    for t in dates:  # some cell is no date (or they mix time zones): one at a time
        ts = text_date(t)
        try:
            found[t] = None if ts is None else ts.as_unit("ns").to_datetime64()
        except (ValueError, OverflowError):
            found[t] = None
    return found


def time_column(col: pd.Series) -> str | None:
    """'dates' if most cells are dates, 'steps' if every cell is a whole number counting up by one, else None."""
    counts = kinds(col)
    if mostly(counts, "date"):
        return "dates"
    if set(counts) == {"int"}:
        values, blank, bad = as_steps(col)
        if bad is None and not blank.any() and bool((np.diff(values) == 1).all()):
            return "steps"
    return None


def all_steps(col: pd.Series) -> bool:
    """Does every filled cell hold a whole number (step numbers, not dates)?"""
    if pd.api.types.is_integer_dtype(col.dtype):
        return True
    if pd.api.types.is_float_dtype(col.dtype):  # whole numbers stored as floats; as_steps names one that is not
        return bool(col.notna().any())
    if col.dtype != object:
        return False
    ints = (
        is_blank(v)
        or (isinstance(v, str) and _INT.fullmatch(v.strip()) is not None)
        or (isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_))
        for v in col
    )
    return all(ints) and not col.map(is_blank).all()


# ---- what a header says -------------------------------------------------------------------------
def header_dates(names: list[str]) -> np.ndarray | None:
    """(len(names),) datetime64[ns] if every name is a date that names its year (2021-01, Jan 2021,
    2021Q1, a workbook's date cell) and there are two or more, else None. A bare number (2019,
    20210101) is no header date: a column per year (rows Jan..Dec) is a wide table, not a pivot."""
    if len(names) < 2:
        return None
    out = np.empty(len(names), dtype="datetime64[ns]")
    for k, name in enumerate(names):
        t = name.strip()
        if _INT.fullmatch(t) or plain_number(t) is not None or not _YEAR.search(t):
            return None
        ts = text_date(t)
        if ts is None:
            return None
        try:
            out[k] = ts.as_unit("ns").to_datetime64()
        except (ValueError, OverflowError):
            return None
    return out


def numbered_header(names: list[str]) -> bool:
    """Are the names one prefix and consecutive numbers, three or more (V1, V2, ...; x3, x4, ...; 1, 2, ...)?"""
    found = [_NUMBERED.fullmatch(n.strip()) for n in names]
    if len(names) < 3 or not all(found):
        return False
    prefixes = {m.group(1) for m in found if m}
    numbers = [int(m.group(2)) for m in found if m]
    return len(prefixes) == 1 and numbers == list(range(numbers[0], numbers[0] + len(numbers)))


# ---- a date in words -------------------------------------------------------------------------------
def stamp(ts: pd.Timestamp) -> str:
    return str(ts.date()) if ts == ts.normalize() else str(ts)


def when(values: np.ndarray, i: int) -> str:
    """Row ``i``'s date (2024-01-31) or step ("step 7") in words."""
    v = values[i]
    return stamp(pd.Timestamp(v)) if isinstance(v, np.datetime64) else f"step {v}"
