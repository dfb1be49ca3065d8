"""One column of numbers from a CSV file, read exactly or refused.

The CLI's ``xl-lstm forecast DATA.csv`` trains on what this returns, so nothing is
guessed silently: every row is kept (lines starting with ``#`` above the header are a
comment and skipped, said in the note; below it, a row starting with ``#`` is data, and a
blank line inside the data is a gap), every cell of the column must be a plain number, and a
missing-value marker (``n/a``, ``NA``, ``-``, ...) is named as what it is. What is
detected (the separator, decimal commas, a missing header) is said in ``Column.note``.

Separators: the header line's ``,``, ``;`` or tab (one of them; ``csv.Sniffer``
decides if it holds several). Decimal commas are accepted only with ``;`` or tab
separators, and only when the column holds no decimal points: a column that mixes
them is refused, as are thousands separators.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import sys
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple

import numpy as np

from ..core import limits
from ..core.errors import LSTMError

__all__ = [
    "Cells",
    "Column",
    "TextColumns",
    "check_text_budget",
    "column_numbers",
    "decimal_comma",
    "describe",
    "load_text",
    "plain_number",
    "read_cells",
    "read_column",
    "read_columns",
    "read_numbers",
]

_POINT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_COMMA = re.compile(r"[+-]?(?:\d+(?:,\d*)?|,\d+)(?:[eE][+-]?\d+)?")
MISSING = {"na", "n/a", "#n/a", "nan", "null", "none", "-", "--", "?", ".", "missing", "#value!", "#div/0!"}
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab"}
MAX_BYTES = 128 << 20  # a CSV's bytes read at once, and its text's in memory (4 bytes a character if one is an emoji)


@dataclass(frozen=True)
class Column:
    name: str
    values: np.ndarray  # (n,) float64
    note: str  # one line: the column used, how many values, what was detected


def plain_number(text: str, comma: bool = False) -> float | None:
    """A plain decimal number (no thousands separators, no nan/inf), or None."""
    t = text.strip()
    if comma:
        return float(t.replace(",", ".")) if _COMMA.fullmatch(t) else None
    return float(t) if _POINT.fullmatch(t) else None


def describe(text: str) -> str:
    """What a cell that is not a plain number holds, in words."""
    t = text.strip()
    if t == "":
        return "a gap (an empty cell)"
    if t.lower() in MISSING:
        return f"{t!r}, a missing-value marker, not a number"
    return f"text {t[:40]!r}, not a number"


def _separator(source: str, header: str, sample: str) -> str:
    found = [s for s in (",", ";", "\t") if s in header]
    if len(found) <= 1:
        return found[0] if found else ","
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        raise LSTMError(
            f"{source}: cannot tell its separator (the header holds {', '.join(map(repr, found))})"
        ) from None


_LINE = re.compile(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+")  # a line as the csv module reads it: \n, \r\n or \r ends it


def _line_count(text: str, start: int = 0) -> int:
    """Lines from ``start``, ended by \n, \r\n or \r (the last may have no ending), counted in C."""
    ends = text.count("\n", start) + text.count("\r", start) - text.count("\r\n", start)
    return ends + (len(text) > start and text[-1] not in "\r\n")


def _lines(text: str, start: int = 0) -> Iterator[tuple[int, int]]:
    """(start, end) of each line from ``start``, its ending included: one line at a time, never a list of them."""
    if text.count("\r", start) != text.count("\r\n", start):  # a lone carriage return ends a line too
        yield from (m.span() for m in _LINE.finditer(text, start))
        return
    n = len(text)
    while start < n:
        end = text.find("\n", start)
        end = n if end < 0 else end + 1
        yield start, end
        start = end


def check_text_budget(source: str, text: str, start: int, sep: str, skipped: int) -> None:
    """Refuse CSV text (a file's or stdin's) that takes more than MAX_BYTES of memory, or holds more
    than MAX_ROWS rows under its first line or MAX_CELLS cells, counted on the text itself before any
    line is split into fields: a line with 150 M separators is refused at that line, naming it,
    before it costs a field. A line's cells are its separators + 1 (an upper bound: a quoted
    separator counts too)."""
    size = sys.getsizeof(text)
    if size > MAX_BYTES:
        wide = " (a character beyond U+FFFF makes every character take 4 bytes)" if max(text) > "\uffff" else ""
        raise LSTMError(
            f"{source}: its text takes {size >> 20:,} MiB in memory{wide}, over the limit of {MAX_BYTES >> 20:,} MiB "
            "read at once; split the table into smaller files"
        )
    rows = _line_count(text, start) - 1  # under the header
    header_end = next(_lines(text, start), (start, start))[1]
    header = text.count(sep, start, header_end) + 1
    if rows <= limits.MAX_ROWS and text.count(sep, start) + rows + 1 - header <= limits.MAX_CELLS:
        return  # the common case, in a few passes of C over the text
    cells = 0
    for k, (a, b) in enumerate(_lines(text, start)):
        if k == 0:
            continue  # the header's names are no cells
        fields = text.count(sep, a, b) + 1
        cells += fields
        if k > limits.MAX_ROWS or cells > limits.MAX_CELLS:
            what = f"{k:,} rows" if k > limits.MAX_ROWS else f"{cells:,} cells (this line has {fields:,} fields)"
            raise LSTMError(
                f"{source}: line {skipped + k + 1} takes the table to {what}, over the limit of "
                f"{limits.MAX_ROWS:,} rows and {limits.MAX_CELLS:,} cells read at once; split the table into smaller files"
            )


def _rows(source: str, text: str, start: int, sep: str, skipped: int) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) per row, one at a time, from ``start``; trailing blank lines are not dropped here."""
    reader = csv.reader((text[a:b] for a, b in _lines(text, start)), delimiter=sep, strict=True)
    try:
        for row in reader:
            yield skipped + reader.line_num, row
    except csv.Error as exc:
        raise LSTMError(f"{source}: cannot read it as CSV (line {reader.line_num}: {exc})") from None


def _drop_trailing_blanks(rows: list[tuple[int, list[str]]]) -> list[tuple[int, list[str]]]:
    while rows and all(f.strip() == "" for f in rows[-1][1]):
        rows.pop()
    return rows


def decimal_comma(cells: list[str], sep: str) -> bool:
    """Decimal commas: only beside a ';' or tab separator, and only if no cell has a decimal point."""
    if sep == ",":
        return False
    commas = any("," in c and _COMMA.fullmatch(c.strip()) for c in cells)
    points = any("." in c and _POINT.fullmatch(c.strip()) for c in cells)
    return commas and not points


def _pick(source: str, names: list[str], body: list[tuple[int, list[str]]], column: str | None, sep: str) -> int:
    if column is not None:
        if column not in names:
            raise LSTMError(f"{source}: no column {column!r}; columns are {', '.join(map(repr, names))}")
        if names.count(column) > 1:
            raise LSTMError(f"{source}: {names.count(column)} columns are named {column!r}; rename them")
        return names.index(column)
    numeric = numeric_columns(body, len(names), sep)
    if numeric:
        return numeric[-1]  # the last column holding a number (its other cells are checked later)
    raise LSTMError(f"{source}: no numeric column; name one with --column")


def numeric_columns(body: list[tuple[int, list[str]]], width: int, sep: str) -> list[int]:
    """The columns (0-based) in which some cell holds a number."""
    out = []
    for k in range(width):
        cells = [r[k] for _, r in body if k < len(r) and r[k].strip()]
        comma = decimal_comma(cells, sep)
        if any(plain_number(c, comma) is not None for c in cells):
            out.append(k)
    return out


class Cells(NamedTuple):
    """CSV text as its rows."""

    names: list[str]  # the header's names ("1", "2", ... without a header)
    body: list[tuple[int, list[str]]]  # (line number, fields) of each row under the header
    sep: str
    skipped: int  # comment lines above the header
    has_header: bool


def _start(source: str, text: str) -> tuple[int, int, str]:
    """(where the header starts, comment lines above it, the separator): the text is not split into lines."""
    start, skipped = 0, 0
    for a, _ in _lines(text):
        if not text.startswith("#", a):
            start = a
            break
        skipped += 1
    else:
        start = len(text)
    header = text[slice(*next(_lines(text, start), (start, start)))].rstrip("\r\n")
    if not header.strip():
        raise LSTMError(
            f"{source}: {'is empty' if not text[start:].strip() else 'starts with a blank line; where is the header?'}"
        )
    sample_end = start
    for _, (_, b) in zip(range(20), _lines(text, start), strict=False):
        sample_end = b
    return start, skipped, _separator(source, header, text[start:sample_end])


def read_cells(source: str, text: str) -> Cells:
    """CSV ``text`` as its rows: names, (line, fields), separator, comments skipped, header or not.
    Refused before a line is split if it is over the budget (``check_text_budget``)."""
    text = text.lstrip("\ufeff")
    start, skipped, sep = _start(source, text)
    check_text_budget(source, text, start, sep, skipped)
    rows = list(_rows(source, text, start, sep, skipped))
    header = rows[0][1]  # kept even if its fields are blank (','): a header of no names, refused by the caller
    has_header = _has_header(header)
    names = [f.strip() for f in header] if has_header else [str(k + 1) for k in range(len(header))]
    return Cells(names, _drop_trailing_blanks(rows[1:] if has_header else rows), sep, skipped, has_header)


def _has_header(first: list[str]) -> bool:
    """A first line holding anything but numbers is a header."""
    return not all(plain_number(f, True) is not None or plain_number(f, False) is not None for f in first)


class TextColumns(NamedTuple):
    """CSV text as one list of cells per column (``read_columns``)."""

    names: list[str]
    columns: list[list[str]]  # (rows,) per name, each cell stripped of spaces
    lines: array  # (rows,) the line number of each row
    sep: str
    skipped: int
    has_header: bool


def read_columns(source: str, text: str, cache_cells: int = 1 << 18) -> TextColumns:
    """CSV ``text`` as columns, read one row at a time: no list of rows is kept, a cell seen before
    (an id, a date) is kept once (up to ``cache_cells`` distinct cells), and the table is refused
    in one line at a blank row inside it or a row whose fields differ from the header's."""
    text = text.lstrip("\ufeff")
    start, skipped, sep = _start(source, text)
    check_text_budget(source, text, start, sep, skipped)
    rows = _rows(source, text, start, sep, skipped)
    first_line, first = next(rows)
    has_header = _has_header(first)
    names = [f.strip() for f in first] if has_header else [str(k + 1) for k in range(len(first))]
    width = len(names)
    columns: list[list[str]] = [[] for _ in names]
    lines = array("q")
    seen: dict[str, str] = {}
    blank: int | None = None  # a blank line, refused if a row follows it
    body = rows if has_header else itertools.chain([(first_line, first)], rows)
    for line, row in body:
        if not any(f.strip() for f in row):
            blank = line if blank is None else blank
            continue
        if blank is not None:
            raise LSTMError(f"{source}: line {blank} is blank; every row must hold data (fill or remove it)")
        if len(row) != width:
            hint = f" (is {sep!r} also a decimal comma?)" if sep == "," else ""
            raise LSTMError(f"{source}: line {line} has {len(row)} fields, the header {width}{hint}")
        for column, cell in zip(columns, row, strict=True):
            cell = cell.strip()
            kept = seen.get(cell)
            if kept is None and len(seen) < cache_cells:
                seen[cell] = kept = cell
            column.append(cell if kept is None else kept)
        lines.append(line)
    return TextColumns(names, columns, lines, sep, skipped, has_header)


def read_numbers(source: str, text: str, column: str | None = None) -> Column:
    """The column ``column`` (default: the last one holding a number) of CSV ``text`` as float64."""
    return column_numbers(source, read_cells(source, text), column)


def column_numbers(source: str, cells: Cells, column: str | None = None) -> Column:
    """The column ``column`` (default: the last one holding a number) of parsed CSV ``cells``."""
    names, body, sep, skipped, has_header = cells
    width = len(names)
    for line, r in body:
        if len(r) != width and any(f.strip() for f in r):
            raise LSTMError(
                f"{source}: line {line} has {len(r)} fields, the header {width}"
                + (f" (is {sep!r} also a decimal comma?)" if sep == "," else "")
            )
    if not body:
        raise LSTMError(f"{source}: holds a header but no rows")
    k = _pick(source, names, body, column, sep)
    texts = [r[k] if k < len(r) else "" for _, r in body]
    comma = decimal_comma([c for c in texts if c.strip()], sep)
    values = np.empty(len(texts))
    for i, ((line, row), cell) in enumerate(zip(body, texts, strict=True)):
        v = plain_number(cell, comma)
        if v is None and not any(f.strip() for f in row):
            raise LSTMError(f"{source}: line {line} is blank, a gap inside the data; fill or remove it first")
        if v is None:
            raise LSTMError(
                f"{source}: column {names[k]!r}, line {line} holds {describe(cell)}; fix or remove it first"
            )
        values[i] = v
    if not np.isfinite(values).all():
        line = body[int(np.flatnonzero(~np.isfinite(values))[0])][0]
        raise LSTMError(f"{source}: column {names[k]!r}, line {line} holds a number too large for a float")
    detected = [f"{SEPARATORS[sep]}-separated"]
    if comma:
        detected.append("decimal commas")
    if not has_header:
        detected.append("no header line")
    if skipped:
        detected.append(f"{skipped} comment line{'s' * (skipped > 1)} above the header skipped")
    note = f"using column {names[k]!r} of {source} ({len(values)} values; {', '.join(detected)})"
    return Column(names[k], values, note)


def read_column(data: str, column: str | None = None, stdin: io.TextIOBase | None = None) -> Column:
    """A CSV file's column, or ``-``: numbers on stdin, one per line."""
    if data == "-":
        text = stdin.read() if stdin is not None else ""
        return read_numbers("stdin", text, column)
    return read_numbers(data, load_text(data), column)


def load_text(data: str) -> str:
    """A CSV file's text: refused in one line if missing, too large, a workbook, not UTF-8 or binary."""
    path = Path(data)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise LSTMError(f"{data}: is {path.stat().st_size >> 20} MiB; at most {MAX_BYTES >> 20} MiB of CSV is read")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise LSTMError(f"{data}: does not exist") from None
    except IsADirectoryError:
        raise LSTMError(f"{data}: is a folder, not a CSV file") from None
    except OSError as exc:
        raise LSTMError(f"{data}: cannot read it ({exc.strerror or exc})") from None
    return _csv_text(data, raw)


def read_stdin(stream: BinaryIO, source: str = "stdin") -> str:
    """CSV text from a stream (stdin's bytes), read no further than the limit: refused past MAX_BYTES
    before the rest is read, so an endless pipe costs at most MAX_BYTES."""
    raw = stream.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise LSTMError(f"{source}: more than {MAX_BYTES >> 20} MiB of CSV; at most {MAX_BYTES >> 20} MiB is read")
    return _csv_text(source, raw)


def _csv_text(data: str, raw: bytes) -> str:
    """The bytes of a CSV as text: refused in one line if a workbook, not UTF-8 or binary."""
    if raw.startswith(b"PK\x03\x04") or raw.startswith(bytes.fromhex("D0CF11E0")):
        raise LSTMError(
            f"{data}: is a workbook, not CSV; save the sheet as CSV (or use xl-lstm fit on a template workbook)"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LSTMError(f"{data}: is not UTF-8 text (byte {exc.start}); save it as CSV UTF-8") from None
    if "\x00" in text:
        raise LSTMError(f"{data}: holds NUL bytes; not a text CSV file")
    return text
