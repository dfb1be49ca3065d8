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
import re
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..core.errors import LSTMError

__all__ = [
    "Cells",
    "Column",
    "column_numbers",
    "decimal_comma",
    "describe",
    "load_text",
    "plain_number",
    "read_cells",
    "read_column",
    "read_numbers",
]

_POINT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_COMMA = re.compile(r"[+-]?(?:\d+(?:,\d*)?|,\d+)(?:[eE][+-]?\d+)?")
MISSING = {"na", "n/a", "#n/a", "nan", "null", "none", "-", "--", "?", ".", "missing", "#value!", "#div/0!"}
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab"}
MAX_BYTES = 512 << 20  # a CSV larger than this is not a series to train an LSTM on in one process


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


def _rows(source: str, text: str, sep: str, skipped: int) -> list[tuple[int, list[str]]]:
    """(line number, fields) per row; trailing blank lines are dropped, a blank line inside the data is kept."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    try:
        rows = [(skipped + reader.line_num, r) for r in reader]
    except csv.Error as exc:
        raise LSTMError(f"{source}: cannot read it as CSV (line {reader.line_num}: {exc})") from None
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


def read_cells(source: str, text: str) -> Cells:
    """CSV ``text`` as its rows: names, (line, fields), separator, comments skipped, header or not."""
    text = text.lstrip("\ufeff")
    lines = text.splitlines(keepends=True)
    skipped = next((k for k, line in enumerate(lines) if not line.startswith("#")), len(lines))
    text, lines = "".join(lines[skipped:]), lines[skipped:]  # comment lines above the header, said in the note
    if not lines or not lines[0].strip():
        raise LSTMError(
            f"{source}: {'is empty' if not text.strip() else 'starts with a blank line; where is the header?'}"
        )
    sep = _separator(source, lines[0], "".join(lines[:20]))
    rows = _rows(source, text, sep, skipped)
    header = rows[0][1]
    has_header = not all(plain_number(f, True) is not None or plain_number(f, False) is not None for f in header)
    names = [f.strip() for f in header] if has_header else [str(k + 1) for k in range(len(header))]
    return Cells(names, rows[1:] if has_header else rows, sep, skipped, has_header)


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
