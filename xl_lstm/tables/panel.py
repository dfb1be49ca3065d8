"""Many series in one table (a panel): read into the long format, strictly, and forecasts written back.

``read_panel(path)``, ``read_panel_text(text)`` (CSV on stdin) and ``panel_from_frame(df)`` give a ``Panel``: the series as one *long*
frame ``unique_id, ds, y`` (the format statsforecast, neuralforecast and darts use), with
the table's one frequency and what the source looked like. ``writers`` lays out the steps
to forecast and writes the forecaster's long frame back in the source's own shape.

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

- dates across the header (a pivot table, one row per series): a header of the id column's
  name then two or more dates that name their year (2021-01, Jan 2021, a workbook's date
  cells), over a first column that is not dates. Read as the series of each row, blank
  cells before its first value or after its last not part of it; written back long. A
  header of numbered columns (V1, V2, ...) over text ids, the M4 layout, is refused: it has
  no dates to tell a frequency by, and the same header heads ordinary wide tables.

``column`` picks one value column of a wide table (its dates column stays) or names the value
column of a long one: one series of a table, read by the same rules.

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

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import LSTMError
from .cells import (
    all_steps,
    as_dates,
    as_numbers,
    as_steps,
    cell_text,
    header_dates,
    kinds,
    mostly,
    numbered_header,
    shown,
    text_date,
    time_column,
    when,
)
from .csv_column import plain_number
from .frequency import one_frequency
from .series_file import STEPS, Frequency
from .sources import Table, check_budget, frame_table, is_blank, read_table, text_table

__all__ = ["DEFAULT_NAMES", "Panel", "id_column", "panel_from_frame", "read_panel", "read_panel_text", "series_ids"]

DEFAULT_NAMES = ("unique_id", "ds", "y")


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
    detected: tuple[str, ...] = ()  # what the CSV reader detected ("semicolon-separated", "no header line")


# ---- which layout -----------------------------------------------------------------------------------
def _find(table: Table, given: str | None, default: str, role: str) -> int | None:
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


def _three_columns_long(table: Table) -> bool:
    """Three columns holding ids, dates (or step numbers) and numbers: a long table without the usual names."""
    if len(table.names) != 3:
        return False
    ids, ds, ys = (kinds(c) for c in table.columns)
    numbers = mostly(ys, "number", "int")
    if mostly(ids, "text") and mostly(ds, "date", "int") and numbers:
        return True
    return not mostly(ids, "date") and mostly(ds, "date") and numbers  # a wide table's dates come first


def _layout(table: Table, id_col: str | None, ds_col: str | None, y_col: str | None) -> tuple[int, int, int] | None:
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
    if found[0] is None and id_col is None and len(table.names) < 3:
        return None  # a date column and one series (or the series alone), even if named y: wide
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
        if id_col is None and found[0] == 0 and mostly(kinds(table.columns[0]), "date"):
            return None  # dates first, then series, one of them named y: a wide table, not ids that are dates
    i, d, y = (int(f) for f in found if f is not None)
    return i, d, y


# ---- building the long frame ------------------------------------------------------------------------
def _long_from_long(table: Table, cols: tuple[int, int, int]) -> tuple[pd.DataFrame, list[str]]:
    """(long frame with a 'row' column: each value's source row, id_order) of a long table."""
    src, (ji, jd, jy) = table.source, cols
    ids = series_ids(table, ji)
    empty = np.flatnonzero(ids == "")
    if len(empty):
        raise LSTMError(f"{src}: {table.where(int(empty[0]), ji)} has no series id; every row needs one")
    ds_col = table.columns[jd]
    ds, blank, bad = as_steps(ds_col) if all_steps(ds_col) else as_dates(ds_col)
    if bad is not None:
        raise LSTMError(
            f"{src}: series {ids[bad]!r}, {table.where(bad, jd)} holds {shown(ds_col.iloc[bad])}, not a date; "
            "fix it (dates such as 2024-01-31, or whole step numbers)"
        )
    if blank.any():
        k = int(np.flatnonzero(blank)[0])
        raise LSTMError(f"{src}: series {ids[k]!r}, {table.where(k, jd)} has no date; every row needs one")
    y, bad = as_numbers(table.columns[jy], table.sep)
    if bad is not None:
        raise LSTMError(
            f"{src}: series {ids[bad]!r} at {when(ds, bad)}, {table.where(bad, jy)} holds "
            f"{cell_text(table.columns[jy].iloc[bad])}; fix or remove it first"
        )
    long = pd.DataFrame({"unique_id": id_column(ids), "ds": ds, "y": y, "row": np.arange(len(ids))})
    long = long.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
    _check_duplicates(table, long, jd)
    _check_blank_values(table, long, jy)
    return long, [str(v) for v in pd.unique(ids)]


def _check_duplicates(table: Table, long: pd.DataFrame, jd: int) -> None:
    same = (long["unique_id"].to_numpy() == long["unique_id"].shift(-1).to_numpy()) & (
        long["ds"].to_numpy() == long["ds"].shift(-1).to_numpy()
    )
    if same.any():
        k = int(np.flatnonzero(same)[0])
        a, b = sorted(int(r) for r in long["row"].iloc[k : k + 2])
        raise LSTMError(
            f"{table.source}: series {long['unique_id'].iloc[k]!r} has two rows for "
            f"{when(long['ds'].to_numpy(), k)} ({table.where(a, None)} and {table.where(b, None)}); keep one"
        )


def _check_blank_values(table: Table, long: pd.DataFrame, jy: int) -> None:
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
        f"{table.source}: series {uid!r} has no value at {when(long['ds'].to_numpy(), k)} "
        f"({table.where(int(long['row'].iloc[k]), jy)}); fill it or remove the row"
    )


def _long_from_wide(table: Table, jt: int | None, kind: str | None) -> tuple[pd.DataFrame, list[str]]:
    """(long frame with a 'row' column, id_order) of a wide table whose dates or steps are column ``jt``."""
    src, n = table.source, table.rows
    if jt is None:
        times: np.ndarray = np.arange(1, n + 1, dtype=np.int64)
    else:
        col = table.columns[jt]
        times, blank, bad = as_steps(col) if kind == "steps" else as_dates(col)
        if bad is not None:
            raise LSTMError(
                f"{src}: {table.where(bad, jt)} holds {shown(col.iloc[bad])}, not a date; "
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
                f"{src}: {table.where(k, jt)}: {when(times, k)} {how} {when(times, k - 1)} above it; "
                "the dates of a wide table must increase, one row per date"
            )
    pieces, order = [], []
    for j, (name, col) in enumerate(zip(table.names, table.columns, strict=True)):
        if j == jt:
            continue
        values, bad = as_numbers(col, table.sep)
        if bad is not None:
            raise LSTMError(
                f"{src}: series {name!r} at {when(times, bad)}, {table.where(bad, j)} holds "
                f"{cell_text(col.iloc[bad])}; fix it (or leave it empty before the series starts or after it ends)"
            )
        held = np.flatnonzero(~np.isnan(values))
        if not len(held):
            raise LSTMError(f"{src}: series {name!r} is blank in every row; remove the column or fill it")
        first, last = int(held[0]), int(held[-1])
        gaps = np.flatnonzero(np.isnan(values[first : last + 1]))
        if len(gaps):
            k = first + int(gaps[0])
            raise LSTMError(
                f"{src}: series {name!r} has a gap at {when(times, k)} ({table.where(k, j)} is empty) inside "
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


def series_ids(table: Table, j: int) -> np.ndarray:
    """Column ``j`` of a long table as series ids, (rows,) object: text stripped, bytes (a Parquet binary
    column) decoded as UTF-8, numbers as written, "" for a blank. Refused, naming the cells: bytes that
    are not UTF-8, and a number and a text that read the same (1 and "1"), which would merge two series."""
    cells = table.columns[j].tolist()
    if set(map(type, cells)) == {str}:  # the usual column, 3x faster than the loop below
        return np.array([v.strip() for v in cells], dtype=object)
    ids = np.empty(len(cells), dtype=object)  # (rows,)
    is_text = np.zeros(len(cells), dtype=bool)
    for i, v in enumerate(cells):
        if isinstance(v, bytes | bytearray):
            try:
                v = bytes(v).decode("utf-8")
            except UnicodeDecodeError:
                raise LSTMError(
                    f"{table.source}: {table.where(i, j)} holds a series id of bytes that are not UTF-8 text "
                    f"({bytes(v)[:20]!r}); store the ids as text"
                ) from None
        if isinstance(v, str):
            ids[i], is_text[i] = v.strip(), True
        else:
            ids[i] = "" if is_blank(v) else str(v)
    if is_text.any() and not is_text.all():
        numbers = ~is_text & (ids != "")
        clash = np.flatnonzero(is_text & pd.Series(ids).isin(set(ids[numbers])).to_numpy())
        if len(clash):
            uid = ids[clash[0]]
            a, b = sorted((int(clash[0]), int(np.flatnonzero(numbers & (ids == uid))[0])))
            kinds = ("text", "a number") if is_text[a] else ("a number", "text")
            raise LSTMError(
                f"{table.source}: series id {uid!r} is {kinds[0]} in {table.where(a, j)} and {kinds[1]} in "
                f"{table.where(b, j)}; they would be merged into one series: make the id column all text or all numbers"
            )
    return ids


def id_column(ids: Any) -> pd.Series:
    """Series ids (n,) as one column of text of dtype object, under every pandas: pandas 3
    would infer its own string dtype, pandas 2 object; one dtype keeps every table we return
    the same, whichever pandas is installed."""
    return pd.Series(np.asarray(ids, dtype=object), dtype=object)


# ---- one row per series, the dates across the header (a pivot table) -------------------------------
def _across(table: Table) -> Table | None:
    """A table whose header is an id column's name then dates (a pivot table: one row per series),
    turned a quarter round into a wide table (the dates down column 0, one column per row's series)
    whose cells are named as in the source; None for any other table.

    A header of numbered columns (V1, V2, ...: the M4 files) over text ids is refused: it has no
    dates, so no frequency, season or hold-out can be told, and the same header also heads
    ordinary wide tables; guessing the orientation is the silent wrong answer this guards against."""
    names, src = table.names, table.source
    if len(names) < 3:
        return None
    if (numbered_header(names) or numbered_header(names[1:])) and _text_ids(table.columns[0]):
        raise LSTMError(
            f"{src}: holds one row per series under numbered columns ({names[0]!r}, {names[1]!r} ... "
            f"{names[-1]!r}; the M4 layout), which carry no dates; reshape it to a long table "
            "(unique_id, ds, y: ds the dates, or the step numbers 1, 2, ...) or put each column's date in the header"
        )
    dates = None if mostly(kinds(table.columns[0]), "date") else header_dates(names[1:])
    if dates is None:
        return None
    if header_dates(names[:2]) is not None:
        raise LSTMError(
            f"{src}: every column's header is a date ({names[0]!r} ... {names[-1]!r}): one row per series, but no "
            "column names the series; put their ids in a first column (e.g. store) before the dates"
        )
    back = np.flatnonzero(dates[1:] <= dates[:-1])
    if len(back):
        k = int(back[0]) + 1
        raise LSTMError(
            f"{src}: its header holds dates, one column per date, and they must increase left to right: "
            f"{names[k + 1]!r} follows {names[k]!r}"
        )
    ids = [v.strip() if isinstance(v, str) else "" if is_blank(v) else str(v) for v in table.columns[0]]
    seen: dict[str, int] = {}
    for i, uid in enumerate(ids):
        if uid == "":
            raise LSTMError(
                f"{src}: {table.where(i, 0)} has no series id; every row of a table with dates "
                "across the header is one series, named in its first column"
            )
        if uid in seen:
            raise LSTMError(
                f"{src}: series {uid!r} is in two rows ({table.where(seen[uid], None)} and "
                f"{table.where(i, None)}); keep one"
            )
        seen[uid] = i
    rows = [[c.iloc[i] for c in table.columns[1:]] for i in range(table.rows)]  # (series, dates)
    columns = [pd.Series(dates), *(pd.Series(r, dtype=object) for r in rows)]

    def where(i: int, j: int | None) -> str:  # (date i, series j) -> the source's cell of row j-1, column i+1
        if j is None or j == 0:
            return f"the header of column {names[i + 1]!r}"
        return table.where(j - 1, i + 1)

    return Table(src, ["ds", *ids], columns, table.sep, where, table.detected)


def _text_ids(col: pd.Series) -> bool:
    """Does a column hold text ids ('M1', 'store a'): text cells, none of them a number or a dated text?"""
    cells = [v for v in col.iloc[:1000] if not is_blank(v)]
    return bool(cells) and all(
        isinstance(v, str) and not _DATED.search(v) and plain_number(v) is None and plain_number(v, True) is None
        for v in cells
    )


_DATED = re.compile(r"\d{4}|\d{1,2}[/.-]\d{1,2}")  # a year, or day and month: text that is a date, not an id


# ---- panels -----------------------------------------------------------------------------------------
def _one_column(table: Table, column: str, id_col: str | None, ds_col: str | None) -> tuple[Table, str | None]:
    """(the table narrowed to its dates and ``column``, the y_col): a wide table's one series; a long
    table (one with an id column) keeps its columns and reads ``column`` as its values."""
    j = _find(table, column, "", "the values (--column)")
    assert j is not None  # _find refuses a column given that is not there
    if _find(table, id_col, "unique_id", "the series ids (id_col)") is not None:
        return table, column
    jt = _find(table, ds_col, "ds", "the dates (ds_col)")
    if jt is None and j != 0 and time_column(table.columns[0]) is not None:
        jt = 0
    keep: list[int] = [jt, j] if jt is not None and jt != j else [j]
    narrowed = Table(
        table.source,
        [table.names[k] for k in keep],
        [table.columns[k] for k in keep],
        table.sep,
        lambda i, c: table.where(i, None if c is None else keep[c]),
        table.detected,
    )
    return narrowed, None


def _panel(
    table: Table,
    id_col: str | None,
    ds_col: str | None,
    y_col: str | None,
    path: Path | None,
    column: str | None = None,
) -> Panel:
    if not table.names or table.rows == 0:
        raise LSTMError(f"{table.source}: is empty; it needs a header and rows")
    if column is not None:
        table, picked = _one_column(table, column, id_col, ds_col)
        y_col = picked or y_col
    across = _across(table) if column is None and id_col is None and ds_col is None and y_col is None else None
    cols = _layout(table, id_col, ds_col, y_col) if across is None else None
    if across is not None:  # one row per series: written back as a long table, the id under its own name
        long, order = _long_from_wide(across, 0, "dates")
        shape, unused = "long", []
        names = {"unique_id": table.names[0] or "unique_id", "ds": "ds", "y": "y"}
    elif cols is not None:
        long, order = _long_from_long(table, cols)
        shape, names = "long", {k: table.names[j] for k, j in zip(DEFAULT_NAMES, cols, strict=True)}
        unused = [n for j, n in enumerate(table.names) if j not in cols]
    else:
        named = _find(table, ds_col, "ds", "the dates (ds_col)")
        jt: int | None = named if named is not None else 0
        kind = time_column(table.columns[jt]) if jt is not None else None
        if kind == "steps" and len(table.names) == 1:  # a lone column of whole numbers is a series
            kind = None
        if ds_col is not None and kind is None:
            raise LSTMError(f"{table.source}: column {ds_col!r} (ds_col) holds neither dates nor step numbers")
        if kind is None:
            jt = None
        if jt is not None and table.sep and kind == "dates" and text_date(table.names[jt]) is not None:
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
    check_budget(table.source, len(long), 3, f"{len(long):,} values")
    frequency, code = one_frequency(table.source, long, order)
    long = long.drop(columns="row")
    long["y"] = long["y"].astype(np.float64)
    if code is None:
        long["ds"] = long["ds"].astype(np.int64)
    said = frequency.adjective if code is not None and frequency is not STEPS else f"every {code}" if code else "steps"
    note = f"; column{'s' * (len(unused) > 1)} {', '.join(map(repr, unused))} not used" if unused else ""
    layout = "dates across the header" if across is not None else shape
    source = f"{table.source} ({layout}: {len(order)} series, {said}{note})"
    return Panel(long, shape, frequency, code, source, order, names, path, table.detected)


def panel_from_frame(
    df: pd.DataFrame | Table,
    *,
    id_col: str | None = None,
    ds_col: str | None = None,
    y_col: str | None = None,
    source: str = "the table",
) -> Panel:
    """A DataFrame, long or wide (see the module's docstring), or worksheet cells (``sources.cells_table``: a
    selected range, each cell named by its sheet address) as a Panel; bad input is one LSTMError line."""
    return _panel(df if isinstance(df, Table) else frame_table(df, source), id_col, ds_col, y_col, None)


def read_panel(
    path: str | Path,
    *,
    id_col: str | None = None,
    ds_col: str | None = None,
    y_col: str | None = None,
    column: str | None = None,
    source: str | None = None,
) -> Panel:
    """A .csv/.tsv/.txt, .parquet or .xlsx/.xlsm (first sheet) file, long or wide, as a Panel
    (``column``: only that series; ``source`` starts every message, default the file's name)."""
    path = Path(path)
    return _panel(read_table(path, source), id_col, ds_col, y_col, path, column)


def read_panel_text(text: str, *, source: str = "stdin", column: str | None = None, ds_col: str | None = None) -> Panel:
    """CSV text (e.g. stdin: numbers one per line, or a table with a header) as a Panel, as read_panel reads a file."""
    return _panel(text_table(source, text), None, ds_col, None, None, column)
