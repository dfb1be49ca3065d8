"""One series out of a CSV or Excel file, read exactly or refused in one line.

``read_series(path, column=None, dates=None)`` gives the values of one column, a label
per row (its date, written for the data's frequency, or its row number), and the
frequency's season and hold-out: what the template needs to lay out an analyst's own data.

Exactly means: every row of the file is a step (no row is dropped: a blank row or a value
such as 'n/a', ±inf or a magnitude beyond ``magnitude.MAX_MAGNITUDE``, a formula cell with no
saved value, or a table with its dates across the header is refused with its line or cell;
a label starting with '#' is data), the separator
and decimal mark are detected and said, and the column used is named in the result. CSV
files follow ``csv_column``'s rules, the same as ``xl-lstm forecast``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import LSTMError
from .cells import header_dates
from .csv_column import column_numbers, describe, load_text, plain_number, read_cells
from .magnitude import first_unfit, unfit_words
from .sources import sheet_rows

__all__ = [
    "FREQUENCIES",
    "STEPS",
    "Frequency",
    "SeriesFile",
    "frequency_code",
    "frequency_of",
    "hold_out",
    "read_series",
    "series_from_table",
    "table_from_cells",
]

MAX_ROWS = 1_048_000  # a worksheet holds 1,048,576 rows; the template needs a few for headers
MAX_BYTES = 256 << 20


@dataclass(frozen=True)
class Frequency:
    """What a step is, and what that implies for a forecast."""

    period: str  # "month", "quarter", ...: axis titles and headers
    adjective: str  # "monthly", ...
    season: int  # steps per seasonal cycle (1: none)
    horizon: int  # steps held out and forecast
    label_format: str  # strftime format of a step's label ("" for quarters: 2024Q1)


FREQUENCIES = {  # pandas' inferred frequency, by its first letters
    "Q": Frequency("quarter", "quarterly", 4, 8, ""),
    "BQ": Frequency("quarter", "quarterly", 4, 8, ""),
    "M": Frequency("month", "monthly", 12, 12, "%Y-%m"),
    "BM": Frequency("month", "monthly", 12, 12, "%Y-%m"),
    "Y": Frequency("year", "yearly", 1, 6, "%Y"),
    "A": Frequency("year", "yearly", 1, 6, "%Y"),
    "BY": Frequency("year", "yearly", 1, 6, "%Y"),
    "W": Frequency("week", "weekly", 52, 13, "%Y-%m-%d"),
    "D": Frequency("day", "daily", 7, 14, "%Y-%m-%d"),
    "B": Frequency("business day", "business-daily", 5, 10, "%Y-%m-%d"),
    "H": Frequency("hour", "hourly", 24, 48, "%Y-%m-%d %H:%M"),
}
STEPS = Frequency("step", "", 1, 0, "")  # no dates: the hold-out follows the length (see hold_out)


@dataclass(frozen=True)
class SeriesFile:
    """One column of a table file, as the template lays it out."""

    name: str  # the column's header
    values: np.ndarray  # (T,) float64
    labels: list[str]  # (T,) one per step
    frequency: Frequency
    source: str  # e.g. "sales.csv, column 'sales', dates from 'month' (monthly)"


def hold_out(frequency: Frequency, steps: int) -> tuple[int, int]:
    """(season, horizon) for a series of ``steps`` values: the frequency's, shortened so the
    history keeps at least two seasons and 8 steps more."""
    horizon = frequency.horizon or (12 if steps >= 48 else max(2, steps // 4))
    horizon = max(1, min(horizon, steps // 4))
    season = frequency.season if steps - horizon >= 2 * frequency.season + 8 else 1
    return season, horizon


def series_from_table(
    source: str, table: dict[str, list[str]], column: str | None = None, dates: str | None = None, how: str = ""
) -> SeriesFile:
    """A series from a table of cells' text (``table_from_cells``): a sheet's range or a workbook's first sheet."""
    where = Path(source)
    if not table or not next(iter(table.values())):
        raise LSTMError(f"{source}: no rows under the header")
    _refuse_dates_across(source, list(table))
    date_col = _date_column(where, table, dates)
    name = _value_column(where, table, column, date_col)
    values = _numbers(where, name, table[name])
    _check_magnitudes(source, name, values, "row", [k + 2 for k in range(len(values))])
    return _series(source, name, values, table, date_col, how)


def _series(
    source: str, name: str, values: np.ndarray, table: dict[str, list[str]], date_col: str | None, how: str
) -> SeriesFile:
    rows = len(values)
    if rows > MAX_ROWS:
        raise LSTMError(f"{source}: {rows:,} rows; a worksheet holds at most {MAX_ROWS:,} steps")
    if date_col is None:
        frequency, labels, dated = STEPS, [str(k) for k in range(1, rows + 1)], "no dates"
    else:
        frequency, labels, dated = _dated(Path(source), date_col, table[date_col])
    return SeriesFile(
        name, values, labels, frequency, f"{source}, column {name!r}, {dated}" + (f"; {how}" if how else "")
    )


def read_series(path: str | Path, column: str | None = None, dates: str | None = None) -> SeriesFile:
    """The column ``column`` (default: the last one holding numbers) of a .csv, .txt, .tsv,
    .xlsx or .xlsm file; ``dates`` names the date column (default: the first column, when
    every row of it is a date). CSV files are read by ``csv_column``, the same rules as
    ``xl-lstm forecast``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return series_from_table(path.name, _read_excel(path), column, dates, "first sheet")
    elif suffix in (".csv", ".txt", ".tsv"):
        cells = read_cells(str(path), load_text(str(path)))  # parsed once, for the numbers and the dates
        _refuse_dates_across(path.name, cells.names)
        col = column_numbers(str(path), cells, column)
        table = {n: [r[k].strip() if k < len(r) else "" for _, r in cells.body] for k, n in enumerate(cells.names)}
        date_col = _date_column(path, table, dates)
        if date_col == col.name:
            raise LSTMError(f"{path}: column {col.name!r} cannot be both the dates and the numbers; name them")
        _check_magnitudes(path.name, col.name, col.values, "line", [line for line, _ in cells.body])
        return _series(path.name, col.name, col.values, table, date_col, col.note[col.note.rindex("; ") + 2 : -1])
    raise LSTMError(f"{path}: give a .csv or .xlsx file (got {suffix or 'no extension'})")


# ---- reading a workbook ----------------------------------------------------------------------
def _read_excel(path: Path) -> dict[str, list[str]]:
    if not path.is_file():
        raise LSTMError(f"{path}: does not exist" if not path.exists() else f"{path}: not a file")
    if path.stat().st_size > MAX_BYTES:
        raise LSTMError(
            f"{path}: {path.stat().st_size >> 20} MiB is more than the {MAX_BYTES >> 20} MiB read for one series"
        )
    rows = sheet_rows(path, path.name)
    return table_from_cells(str(path), rows)


def table_from_cells(source: str, rows: list[list[Any]]) -> dict[str, list[str]]:
    """Cells as a sheet holds them (a header row, then one row per step; None for a blank) as
    header -> the text of each row. Blank rows at the end are no steps; a blank row inside is refused."""
    rows = [list(r) for r in rows]
    while rows and all(v is None or v == "" for v in rows[-1]):
        rows.pop()
    if not rows:
        raise LSTMError(f"{source}: is empty")
    width = max(k + 1 for r in rows for k, v in enumerate(r) if v is not None and v != "")
    header = [_text(v) for v in (rows[0] + [None] * width)[:width]]
    if len(set(header)) != len(header) or "" in header:
        raise LSTMError(f"{source}: the first row must name every column once, got {header}")
    table: dict[str, list[str]] = {h: [] for h in header}
    for k, row in enumerate(rows[1:], start=2):
        cells = (row + [None] * width)[:width]
        if all(v is None or v == "" for v in cells):
            raise LSTMError(f"{source}: row {k} is blank; every row must be one step")
        for h, v in zip(header, cells, strict=True):
            table[h].append(_text(v))
    return table


def _text(v: Any) -> str:
    if v is None:
        return ""
    if hasattr(v, "isoformat"):
        return str(v.isoformat())
    return repr(float(v)) if isinstance(v, float) else str(v).strip()  # float(): numpy scalars print as np.float64(...)


def _refuse_dates_across(source: str, names: list[str]) -> None:
    """A header of a name then dates is one row per series (a pivot table): no column is a series."""
    if len(names) >= 3 and header_dates(names[1:]) is not None:
        raise LSTMError(
            f"{source}: its header holds dates ({names[1]!r} ... {names[-1]!r}): one row per series, the dates "
            "across; the template takes one series down a column: give a column of dates and one of values "
            "(xl-lstm forecast reads this layout as it is)"
        )


# ---- which columns ---------------------------------------------------------------------------
def _date_column(path: Path, table: dict[str, list[str]], dates: str | None) -> str | None:
    if dates is not None:
        if dates not in table:
            raise LSTMError(f"{path}: no column {dates!r} for --dates; columns are {', '.join(table)}")
        return dates
    first = next(iter(table))
    return first if len(table) > 1 and _parse_dates(table[first]) is not None else None


def _value_column(path: Path, table: dict[str, list[str]], column: str | None, date_col: str | None) -> str:
    if column is not None:
        if column not in table:
            raise LSTMError(f"{path}: no column {column!r}; columns are {', '.join(table)}")
        return column
    numeric = [h for h, cells in table.items() if h != date_col and _mostly_numbers(cells)]
    if not numeric:
        raise LSTMError(f"{path}: no column of numbers; name one with --column (columns are {', '.join(table)})")
    return numeric[-1]


def _mostly_numbers(cells: list[str]) -> bool:
    ok = sum(plain_number(c) is not None for c in cells)
    return ok > 0 and ok >= 0.5 * len(cells)


def _check_magnitudes(source: str, name: str, values: np.ndarray, unit: str, where: list[int]) -> None:
    """Refuse ±inf or a value beyond ``magnitude.MAX_MAGNITUDE``, naming the file, column and row (or line)."""
    k = first_unfit(values)
    if k is not None:
        raise LSTMError(f"{source}: column {name!r}, {unit} {where[k]} holds {unfit_words(values[k])}; fix it first")


def _numbers(path: Path, name: str, cells: list[str]) -> np.ndarray:
    """A sheet's column as numbers, by csv_column's rules (plain decimals; anything else named)."""
    out = np.empty(len(cells))
    for k, cell in enumerate(cells):
        v = plain_number(cell)
        if v is None:
            raise LSTMError(f"{path}: column {name!r}, row {k + 2} holds {describe(cell)}; fix or remove it first")
        out[k] = v
    return out


# ---- dates and frequency -----------------------------------------------------------------------
def _parse_dates(cells: list[str]) -> Any:
    import pandas as pd

    if any(c == "" for c in cells):
        return None
    try:
        parsed = pd.to_datetime(pd.Series(cells), format="mixed", errors="raise")
    except (ValueError, TypeError, OverflowError):
        return None
    return pd.DatetimeIndex(parsed)


def frequency_code(index: Any) -> str | None:
    """pandas' inferred frequency as its code ('MS', 'QS-OCT', ...), whichever form this pandas returns."""
    import warnings

    import pandas as pd

    with warnings.catch_warnings():  # pandas 3 warns that infer_freq will return an offset: both are handled
        warnings.simplefilter("ignore")
        found = pd.infer_freq(index)
    return None if found is None else _one_quarter_anchor(str(getattr(found, "freqstr", found)))


def _one_quarter_anchor(code: str) -> str:
    """One name for each quarterly frequency, whichever pandas named it: quarters that start in
    January, April, July and October are 'QS-JAN' (pandas 2 says 'QS-OCT', pandas 3 'QS-JAN'),
    quarter ends 'QE-DEC' (not 'QE-MAR'): the starting month is the first of its three, the
    ending month the last."""
    kind, _, month = code.partition("-")
    if kind not in ("QS", "BQS", "QE", "BQE", "Q", "BQ") or month not in _MONTHS:
        return code
    k = _MONTHS.index(month) % 3  # 0: JAN APR JUL OCT, 1: FEB MAY AUG NOV, 2: MAR JUN SEP DEC
    return f"{kind}-{_MONTHS[k if kind.endswith('S') else k + 9]}"


_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


_OFFSET_KEYS = {  # pandas offset class -> key of FREQUENCIES
    **dict.fromkeys(("MonthBegin", "MonthEnd"), "M"),
    **dict.fromkeys(("BusinessMonthBegin", "BusinessMonthEnd"), "BM"),
    **dict.fromkeys(("QuarterBegin", "QuarterEnd"), "Q"),
    **dict.fromkeys(("BQuarterBegin", "BQuarterEnd"), "BQ"),
    **dict.fromkeys(("YearBegin", "YearEnd"), "Y"),
    **dict.fromkeys(("BYearBegin", "BYearEnd"), "BY"),
    "Week": "W",
    "Day": "D",
    "BusinessDay": "B",
    "Hour": "H",
}


def frequency_of(code: str | None) -> Frequency | None:
    """The Frequency of a pandas offset code ('MS', 'QS-OCT', 'W-SUN', 'h', ...), or None for no code
    or one that is not one step of a frequency FREQUENCIES knows ('15min', '2MS', 'bh')."""
    import warnings

    from pandas.tseries.frequencies import to_offset

    if code is None:
        return None
    try:
        with warnings.catch_warnings():  # old aliases ('H', 'A-DEC') warn of their deprecation
            warnings.simplefilter("ignore")
            offset = to_offset(code)
    except ValueError:
        return None
    key = _OFFSET_KEYS.get(type(offset).__name__)
    if key is None or offset.n != 1 or (key == "W" and getattr(offset, "weekday", None) is None):
        return None
    return FREQUENCIES[key]


def _dated(path: Path, name: str, cells: list[str]) -> tuple[Frequency, list[str], str]:

    index = _parse_dates(cells)
    if index is None:
        bad = next((k for k, c in enumerate(cells) if _parse_dates([c]) is None), 0)
        raise LSTMError(f"{path}: column {name!r}, row {bad + 2} holds {cells[bad]!r}, not a date")
    if not index.is_monotonic_increasing or index.has_duplicates:
        raise LSTMError(f"{path}: the dates in {name!r} must increase, one row per step")
    code = frequency_code(index) if len(index) >= 3 else None
    if code is None:
        return STEPS, list(cells), f"dates from {name!r} (no regular frequency: labels kept as written)"
    f = frequency_of(code)
    if f is None:
        return STEPS, list(cells), f"dates from {name!r} (frequency {code}: labels kept as written)"
    if f.period == "quarter":
        labels = [f"{d.year}Q{d.quarter}" for d in index]
    else:
        labels = [d.strftime(f.label_format) for d in index]
    return f, labels, f"dates from {name!r} ({f.adjective})"
