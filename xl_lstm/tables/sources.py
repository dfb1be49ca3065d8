"""A table file or a DataFrame as a table of cells: a header and one column of cells per name, strictly.

``read_table(path)`` reads a .csv/.tsv/.txt (``csv_column``'s rules), .parquet or .xlsx/.xlsm
(first sheet) file, ``text_table(source, text)`` CSV text (stdin), ``frame_table(df, source)`` takes a DataFrame (a DatetimeIndex becomes its
first column). Both refuse, in one ``LSTMError`` line, a file or frame over the budget
(``MAX_FILE_BYTES``, ``MAX_ROWS``, ``MAX_CELLS``) before its cells are parsed, a column
without a header or named twice, a blank row, and (in a workbook, ``sheet_rows``) a formula
cell whose value was never saved, which a reader of saved values would take for a blank. CSV text whose first line holds only numbers
has no header when it is one column (named "1"): a column of numbers is a series. What the cells mean is ``cells``' and
``panel``'s business.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import LSTMError
from ..core.limits import MAX_CELLS, MAX_ROWS, READ_SUFFIXES, WORKBOOK_SUFFIXES
from ..core.sheet_cells import read_sheet_text
from ..core.zips import check_package
from .csv_column import SEPARATORS, decimal_comma, load_text, read_columns

__all__ = [
    "MAX_CELLS",
    "MAX_FILE_BYTES",
    "MAX_PARQUET_DATA",
    "Table",
    "cells_table",
    "check_budget",
    "frame_table",
    "is_blank",
    "read_table",
    "sheet_rows",
    "text_table",
]

MAX_FILE_BYTES = 1 << 30  # a table file larger than this is refused before it is read
MAX_PARQUET_DATA = 64 << 20  # a Parquet file's data, uncompressed, read at once: a few MB on disk may hold GBs of text


@dataclass(frozen=True)
class Table:
    """A source table: a header and one column of cells per name."""

    source: str  # "sales.csv" or "the table": the start of every message
    names: list[str]  # headers
    columns: list[pd.Series]  # (rows,) each: text (CSV), Python objects (workbook) or typed values (frames)
    sep: str  # a CSV's separator (decimal commas are decided by it), "" for typed cells
    where: Callable[[int, int | None], str]  # (row, column or None) -> "line 7, column 'b'", "cell B7", "index 5"
    detected: tuple[str, ...] = ()  # what a CSV reader detected: "comma-separated", "decimal commas", "no header line"

    @property
    def rows(self) -> int:
        return len(self.columns[0]) if self.columns else 0


def _too_big(source: str, what: str) -> LSTMError:
    return LSTMError(
        f"{source}: {what} is over the limit of {MAX_ROWS:,} rows and {MAX_CELLS:,} cells read at once; "
        "split the table into smaller files"
    )


def check_budget(source: str, rows: int, columns: int, what: str = "") -> None:
    """Refuse a table of more than MAX_ROWS rows or MAX_CELLS cells (``what`` says its size)."""
    if rows > MAX_ROWS or rows * columns > MAX_CELLS:
        raise _too_big(source, what or f"{rows:,} rows x {columns:,} columns")


def _check_names(source: str, names: list[str], blank_first: bool) -> None:
    for k, name in enumerate(names):
        if name == "" and not (k == 0 and blank_first):
            raise LSTMError(f"{source}: column {k + 1} has no header; name every column in the first row")
        if names.index(name) != k:
            raise LSTMError(f"{source}: two columns are named {name!r}; give every column its own name")


def read_table(path: Path, source: str | None = None) -> Table:
    """A .csv/.tsv/.txt, .parquet or .xlsx/.xlsm (first sheet) file as a table; refused if too big.
    ``source`` starts every message (default: the file's name)."""
    name = source or path.name
    suffix = path.suffix.lower()
    if suffix not in READ_SUFFIXES:
        raise LSTMError(f"{name}: give a {', '.join(READ_SUFFIXES)} file (got {suffix or 'no extension'})")
    if not path.is_file():
        raise LSTMError(f"{path}: does not exist" if not path.exists() else f"{path}: is not a file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise LSTMError(f"{name}: is {size >> 20:,} MiB, over the limit of {MAX_FILE_BYTES >> 20:,} MiB read")
    if suffix == ".parquet":
        return frame_table(_parquet_frame(path, name), name)
    if suffix in WORKBOOK_SUFFIXES:
        return _excel_table(path, name)
    return text_table(name, load_text(str(path)))


def text_table(source: str, text: str) -> Table:
    """CSV ``text`` (a file's, or stdin's) as a table, by ``csv_column``'s rules; ``source`` names it.
    Its size is measured on the text, line by line, before a line is split (``check_text_budget``)."""
    cells = read_columns(source, text)
    names, width = cells.names, len(cells.names)
    if not cells.has_header and width > 1:
        raise LSTMError(f"{source}: its first line holds only numbers; add a header line naming the columns")
    if not cells.lines:
        raise LSTMError(f"{source}: holds a header but no rows")
    _check_names(source, names, blank_first=True)
    columns = []
    for k in range(width):  # one column at a time: its list of cells goes as its Series comes
        columns.append(pd.Series(cells.columns[k], dtype=object))
        cells.columns[k] = []
    line_of = np.frombuffer(cells.lines, dtype=np.int64)

    def where(i: int, j: int | None) -> str:
        return f"line {line_of[i]}" + ("" if j is None else f", column {names[j]!r}")

    detected = [f"{SEPARATORS[cells.sep]}-separated"]
    if any(decimal_comma([c for c in col if c], cells.sep) for col in columns):
        detected.append("decimal commas")
    if not cells.has_header:
        detected.append("no header line")
    if cells.skipped:
        detected.append(f"{cells.skipped} comment line{'s' * (cells.skipped > 1)} above the header skipped")
    return Table(source, names, columns, cells.sep, where, tuple(detected))


def _excel_table(path: Path, name: str) -> Table:
    return cells_table(name, sheet_rows(path, name))


def sheet_rows(path: Path, name: str) -> list[list[Any]]:
    """The first sheet's cells, row by row (None for a blank), as their saved values; refused in one
    line if the workbook is damaged, over the budget, or holds a formula whose value was never saved.

    Text is read as Excel shows it: ``_xHHHH_`` is the character HHHH (how control characters are
    stored; openpyxl leaves the escape in). openpyxl has already taken the ``_x005F_`` off a shared
    string, so a text that itself reads ``_x0041_`` in a workbook Excel wrote comes back as "A"."""
    from openpyxl import load_workbook
    from openpyxl.utils import range_boundaries

    try:
        with zipfile.ZipFile(path) as zf:
            check_package(zf, name)  # before openpyxl inflates anything: a few KB may hold GBs of shared strings
        wb = load_workbook(path, read_only=True, data_only=True)
    except LSTMError:
        raise
    except Exception as exc:  # noqa: BLE001  openpyxl raises many kinds for a damaged file
        raise LSTMError(f"{name}: cannot read it as a workbook ({type(exc).__name__}); is it damaged?") from None
    try:
        ws = wb.worksheets[0]
        try:  # the sheet's stated size, when it states one: refused before any cell is read
            c0, r0, c1, r1 = range_boundaries(ws.calculate_dimension())
            stated: tuple[int, int] | None = ((r1 or 0) - (r0 or 1), (c1 or 0) - (c0 or 1) + 1)
        except (ValueError, TypeError):
            stated = None
        if stated is not None:
            check_budget(name, *stated)
        rows: list[list[Any]] = []
        count = 0
        for row in ws.iter_rows(values_only=True):  # a sheet that states no size (or a wrong one) is counted
            rows.append([read_sheet_text(v) if isinstance(v, str) and "_x" in v else v for v in row])
            count += len(row)
            if len(rows) > MAX_ROWS + 1 or count > MAX_CELLS:
                raise _too_big(name, f"its first sheet, at {len(rows):,} rows and {count:,} cells,")
        if any(v is None for r in rows for v in r):  # only a sheet with blanks can hide an unsaved formula
            _check_saved_formulas(path, name, ws.title, rows)
    except LSTMError:
        raise
    except Exception as exc:  # noqa: BLE001  a damaged sheet fails while it is read, in many ways
        raise LSTMError(f"{name}: cannot read its first sheet ({type(exc).__name__}); is it damaged?") from None
    finally:
        wb.close()
    return rows


def _check_saved_formulas(path: Path, name: str, title: str, rows: list[list[Any]]) -> None:
    """Refuse the first formula cell of the first sheet that holds no saved value.

    openpyxl and pandas write formulas without their value (``<f>B69+1</f><v/>``), and a reader of
    saved values sees an empty cell: a series would silently lose its last months. The sheet is read
    again for its formulas; a blank of ``rows`` (the saved values) that holds one is refused, unless
    its saved value is empty text (``=IF(A2="","",A2)`` is a computed blank, its type ``str``), which
    only a third reading, of the cells' types, tells and only when some formula cell is blank."""
    from openpyxl import load_workbook

    blank = []  # (row, column) of formula cells whose saved value is blank
    wb = load_workbook(path, read_only=True, data_only=False)
    try:
        for i, row in enumerate(wb.worksheets[0].iter_rows(values_only=True)):
            saved = rows[i] if i < len(rows) else []
            for j, v in enumerate(row):
                if v is not None and _is_formula(v) and (j >= len(saved) or saved[j] is None):
                    blank.append((i, j))
    finally:
        wb.close()
    if not blank:
        return
    wanted = set(blank)
    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        for i, cells in enumerate(wb.worksheets[0].iter_rows()):
            for j, cell in enumerate(cells):
                if (i, j) in wanted and cell.data_type != "str":
                    raise LSTMError(
                        f"{name}: {_sheet_ref(title)}!{cell.coordinate} holds a formula with no saved value (the file was "
                        "written by a program that does not compute formulas); open it in Excel or LibreOffice "
                        "and save it, so that every formula's value is stored"
                    )
    finally:
        wb.close()


def _sheet_ref(title: str) -> str:
    """A sheet's name as Excel writes it before '!': Sheet1, or 'My Sales' quoted (a quote doubled)."""
    return title if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", title) else "'" + title.replace("'", "''") + "'"


def _is_formula(v: Any) -> bool:
    """Is a cell read with data_only=False a formula: '=...' text, or openpyxl's array or data-table formula?"""
    return (isinstance(v, str) and v.startswith("=")) or type(v).__name__ in ("ArrayFormula", "DataTableFormula")


def is_blank(v: Any) -> bool:
    """Is a cell empty: None, NaN, NaT, NA or only spaces?"""
    if v is None or v is pd.NaT or v is pd.NA:
        return True
    if isinstance(v, str):
        return not v.strip()
    if isinstance(v, np.datetime64):
        return bool(np.isnat(v))
    return isinstance(v, float | np.floating) and bool(np.isnan(v))


def cells_table(
    source: str, rows: list[list[Any]], *, top: int = 1, left: int = 1, what: str = "the first sheet"
) -> Table:
    """Worksheet cells (a header row, then one row per step; blank = None or "") as a table; blank rows at
    the end are no rows. ``top``, ``left``: the sheet row and column of ``rows[0][0]``, so that every
    message names the sheet's own cell (a selection that starts at C5 names C7, not A3); ``what``
    names the cells in messages ("the first sheet", "the selection")."""
    from openpyxl.utils import get_column_letter

    rows = [list(r) for r in rows]
    while rows and all(is_blank(v) for v in rows[-1]):
        rows.pop()
    if not rows:
        raise LSTMError(f"{source}: {what} is empty")
    width = max(k + 1 for r in rows for k, v in enumerate(r) if not is_blank(v))
    check_budget(source, len(rows) - 1, width)
    names = [str(v).strip() if not is_blank(v) else "" for v in (rows[0] + [None] * width)[:width]]
    _check_names(source, names, blank_first=True)
    if len(rows) < 2:
        raise LSTMError(f"{source}: holds a header but no rows")
    body = [(r + [None] * width)[:width] for r in rows[1:]]
    for k, r in enumerate(body):
        if all(is_blank(v) for v in r):
            raise LSTMError(f"{source}: row {k + top + 1} of {what} is blank; every row must hold data")
    columns = [pd.Series([r[j] for r in body], dtype=object) for j in range(width)]

    def where(i: int, j: int | None) -> str:
        return f"row {i + top + 1}" if j is None else f"cell {get_column_letter(j + left)}{i + top + 1}"

    return Table(source, names, columns, "", where)


def _parquet_frame(path: Path, name: str) -> pd.DataFrame:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise LSTMError(f"{name}: reading Parquet needs pyarrow (pip install pyarrow)") from None
    try:
        meta = pq.ParquetFile(path).metadata
    except Exception as exc:  # noqa: BLE001  pyarrow raises several kinds for a file that is not Parquet
        raise LSTMError(f"{name}: cannot read it as Parquet ({type(exc).__name__}); is it damaged?") from None
    check_budget(name, meta.num_rows, meta.num_columns)
    data = sum(meta.row_group(k).total_byte_size for k in range(meta.num_row_groups))
    if data > MAX_PARQUET_DATA:
        raise LSTMError(
            f"{name}: holds {data >> 20:,} MiB of data uncompressed, over the limit of {MAX_PARQUET_DATA >> 20:,} MiB "
            "read at once; split the table into smaller files"
        )
    try:
        return pd.read_parquet(path, engine="pyarrow")
    except Exception as exc:  # noqa: BLE001
        raise LSTMError(f"{name}: cannot read it as Parquet ({type(exc).__name__}); is it damaged?") from None


def frame_table(df: pd.DataFrame, source: str) -> Table:
    """A DataFrame as a table: a DatetimeIndex (or PeriodIndex) becomes its first column."""
    if not isinstance(df, pd.DataFrame):
        raise LSTMError(f"{source}: give a pandas DataFrame, got {type(df).__name__}")
    if isinstance(df.columns, pd.MultiIndex):
        raise LSTMError(f"{source}: has columns of several header levels; flatten them to one name each")
    check_budget(source, len(df), len(df.columns) + 1)
    labels = df.index
    if isinstance(df.columns, pd.DatetimeIndex | pd.PeriodIndex) and not isinstance(df.index, pd.RangeIndex):
        # a pivot table (df.pivot(index="store", columns="month")): its ids are the index
        df = df.set_axis([str(c) for c in df.columns], axis=1).reset_index()
    elif isinstance(df.index, pd.MultiIndex) and all(n is not None for n in df.index.names):
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

    return Table(source, names, [df.iloc[:, j] for j in range(len(names))], "", where)
