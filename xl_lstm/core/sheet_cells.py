"""One writer for every worksheet cell filled from data: text stays text, numbers numbers,
dates dates, and nothing becomes a formula; our own formulas go through ``put_formula``.

Why: openpyxl (and pandas through it) makes any string that starts with "=" a live formula
(``=HYPERLINK(...)`` in a series id became a link, ``=1+1`` showed 2) and one such as "#N/A"
an error value, and it cuts text at 32,767 characters without a word. Excel reads
``_xHHHH_`` inside any string cell as an escaped character (OOXML's ST_Xstring), and XML
cannot hold most control characters at all. So ``put_value`` writes a string as a string cell
(data type "s", set after openpyxl's guess), escaped the way Excel writes such text itself, and
refuses text longer than a cell holds in one line naming the cell. ``sheet_text`` /
``read_sheet_text`` are that escape and its inverse, for readers and tests.

The module needs no openpyxl: it sets ``value`` and ``data_type`` of the cell it is given.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

import numpy as np

from .errors import LSTMError

__all__ = [
    "MAX_CELL_CHARS",
    "TEXT_PREFIX",
    "display_text",
    "put_formula",
    "put_value",
    "read_sheet_text",
    "sheet_text",
    "typed_text",
]

MAX_CELL_CHARS = 32_767  # characters one worksheet cell holds (Excel's limit; openpyxl silently cuts at it)

# XML 1.0 cannot hold these (or, for CR, keeps it only as a line end): Excel escapes them as _xHHHH_,
# and a literal "_x0041_" must be written "_x005F_x0041_" or Excel shows "A".
_ESCAPED = re.compile(r"[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff]")

Where = str | Callable[[], str]


def _where(where: Where) -> str:
    return where() if callable(where) else where


def sheet_text(text: str, where: Where, hint: str = "") -> str:
    """``text`` as stored in a worksheet's string cell: ST_Xstring-escaped; refused (one line naming
    ``where``) when Excel would cut it, i.e. over 32,767 characters (UTF-16 units) as written or shown."""
    stored = _ESCAPED.sub(lambda m: f"_x{0x5F if m[0] == '_' else ord(m[0]):04X}_", text)
    shown = len(text.encode("utf-16-le", "surrogatepass")) // 2
    if max(len(stored), shown) > MAX_CELL_CHARS:
        escaped = f" ({len(stored):,} once its control characters are escaped)" if len(stored) > shown else ""
        raise LSTMError(
            f"{_where(where)}: the text is {shown:,} characters{escaped}, and a worksheet cell holds at most "
            f"{MAX_CELL_CHARS:,}; it would be cut{hint}"
        )
    return stored


def read_sheet_text(stored: str) -> str:
    """The text of a string cell as Excel shows it: every ``_xHHHH_`` is the character HHHH."""
    return _ESCAPE.sub(lambda m: chr(int(m[1], 16)), stored)


def display_text(text: str, limit: int = 255) -> str:
    """Data shown in a chart's or a title's words (never read back as data): control characters as
    U+FFFD and at most ``limit`` characters (the rest as "…"), which any XML and any program can hold."""
    clean = _CONTROL.sub("\ufffd", text)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


TEXT_PREFIX = "'"  # Excel's text prefix: what follows it is text, and the prefix is not part of the value


def typed_text(text: str, where: Where) -> str:
    """Text from data for a cell set through Excel's object model (xlwings' ``Range.value``, classic or
    Lite): Excel reads such a string as if it were typed, so "=1+1" becomes a formula, "#N/A" an error,
    "007" the number 7 and "1/2" a date. With Excel's text prefix first it stays the text it was. Text
    longer than a cell holds is refused in one line naming ``where``."""
    sheet_text(text, where)  # the length check only: the object model takes the text itself
    return TEXT_PREFIX + text


def _blank(v: Any) -> bool:
    if v is None:
        return True
    try:
        return bool(v != v)  # NaN, NaT
    except (TypeError, ValueError):
        return False


def put_value(cell: Any, value: Any, where: Where, hint: str = "") -> Any:
    """Write data into an openpyxl cell (``ws.cell(...)`` or a ``WriteOnlyCell``) and return it:
    blank (None, NaN, NaT) as an empty cell, bool, a finite number, a date or datetime (naive), or
    text as a string cell, never a formula nor an error value. Anything else, an infinite number,
    a time zone or bytes that are not UTF-8 is refused in one line naming ``where`` (``hint``, what to
    do instead, ends the refusal of text too long for a cell)."""
    v = value.item() if isinstance(value, np.generic) and not isinstance(value, np.datetime64) else value
    if isinstance(v, np.datetime64):
        v = None if np.isnat(v) else v.astype("datetime64[us]").item()
    if isinstance(v, bytes | bytearray):
        try:
            v = bytes(v).decode("utf-8")
        except UnicodeDecodeError:
            raise LSTMError(f"{_where(where)}: holds bytes that are not UTF-8 text ({bytes(v)[:20]!r})") from None
    if isinstance(v, str):
        cell.value = sheet_text(v, where, hint)
        cell.data_type = "s"  # after openpyxl's guess: "=..." would be "f", "#N/A" "e"
        return cell
    if _blank(v):
        cell.value = None
        return cell
    if isinstance(v, bool):
        cell.value = v
        return cell
    if isinstance(v, int | float):
        if isinstance(v, float) and not math.isfinite(v):
            raise LSTMError(f"{_where(where)}: {v} is not a number a worksheet cell holds")
        cell.value = v
        return cell
    if isinstance(v, datetime | date | time):
        if getattr(v, "tzinfo", None) is not None:
            raise LSTMError(f"{_where(where)}: {v} has a time zone, which a worksheet cell cannot hold")
        cell.value = v.to_pydatetime() if hasattr(v, "to_pydatetime") else v
        return cell
    raise LSTMError(f"{_where(where)}: a {type(v).__name__} ({v!r:.40}) is neither text, a number nor a date")


def put_formula(cell: Any, formula: Any) -> Any:
    """Write one of our own formulas (text starting with "=", or an openpyxl ``ArrayFormula``):
    the only way a formula gets into a cell, so data can never take this path by accident."""
    if isinstance(formula, str) and not formula.startswith("="):
        raise ValueError(f"a formula starts with '=', got {formula[:40]!r}")
    cell.value = formula
    if isinstance(formula, str):
        cell.data_type = "f"
    return cell
