"""Worksheet ranges as numbers: what Excel hands over, checked cell by cell.

A range arrives as a 2-D grid (a single cell as a 1×1 grid, or as a bare value;
an empty cell as None). Rules, the same for every worksheet function:

- Trailing blank rows and columns are dropped, so a whole-column reference such as
  A:A, or a range drawn larger than the data, reads as the data it holds.
- A blank cell inside the data is refused: we never guess a number for it.
- Text is refused, including numbers stored as text ("12.5"): their meaning
  depends on the locale, so the message asks the user to convert them.
- Excel error values (#N/A, #DIV/0!, ...) are refused by name.
- TRUE/FALSE are refused: Excel does not count them as numbers in ranges either.

Every refusal is one line naming the argument and the cell (row and column within
the range, counted from 1).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..core.errors import LSTMError

__all__ = ["grid", "is_blank", "numbers", "trim_rows", "vector_or_none", "whole_number"]

EXCEL_ERRORS = (
    "#NULL!",
    "#DIV/0!",
    "#VALUE!",
    "#REF!",
    "#NAME?",
    "#NUM!",
    "#N/A",
    "#GETTING_DATA",
    "#SPILL!",
    "#CALC!",
    "#FIELD!",
    "#BLOCKED!",
    "#CONNECT!",
    "#BUSY!",
    "#UNKNOWN!",
)


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value == "")


def _none_tail(rows: list[list[Any]]) -> int:
    """How many rows at the end are all None, by list comparisons in C (a galloping search)."""
    if not rows:
        return 0
    rows = list(rows)  # COM hands over tuples of tuples
    empty = type(rows[-1])([None] * len(rows[-1]))  # a blank row of the same type, so == compares cells
    n, lo, step = len(rows), 0, 1
    while lo < n:  # rows[n-lo:] are blank; try the next `step` rows above them
        take = min(step, n - lo)
        if rows[n - lo - take : n - lo] == [empty] * take:
            lo, step = lo + take, step * 2
        elif step == 1:
            break
        else:
            step //= 2
    return lo


def trim_rows(rows: list[list[Any]], blank: Callable[[Any], bool] = is_blank) -> list[list[Any]]:
    """A 2-D list without its trailing blank rows and columns, before any per-cell work.

    A whole column (1,048,576 rows, a few filled) costs a few list comparisons in C for
    its empty rows; the columns are trimmed over the rows kept.
    """
    n = len(rows) - _none_tail(rows)
    while n and all(map(blank, rows[n - 1])):  # blanks that are not None ('' or Pyodide's JsNull)
        n -= 1
    kept = rows[:n]
    width = 0
    for row in kept:
        last = len(row)
        while last > width and blank(row[last - 1]):
            last -= 1
        width = max(width, last)
    return [row[:width] for row in kept] if any(len(row) != width for row in kept) else kept


def grid(value: Any, name: str = "a range") -> np.ndarray:
    """Any range value as a 2-D object array (a bare value becomes 1×1)."""
    try:
        arr = np.asarray(value, dtype=object) if not isinstance(value, np.ndarray) else value
    except ValueError:  # nested lists NumPy cannot even hold as objects
        raise LSTMError(f"{name} must be a range (rows of cells), got nested lists of different depths") from None
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    elif arr.ndim == 1:
        arr = arr.reshape(1, -1)
    elif arr.ndim > 2:
        raise LSTMError(f"{name} must be a 2-D range, got {arr.ndim} dimensions")
    return arr


def _trim(arr: np.ndarray) -> np.ndarray:
    """Drop trailing rows and columns that are entirely blank."""
    if arr.dtype != object:
        return arr
    blank = (np.equal(arr, None) | np.equal(arr, "")) if arr.size else np.zeros(arr.shape, bool)  # type: ignore[call-overload]
    rows = np.flatnonzero(~blank.all(axis=1))
    cols = np.flatnonzero(~blank.all(axis=0))
    if rows.size == 0:
        return arr[:0, :0]
    return arr[: rows[-1] + 1, : cols[-1] + 1]


def _describe(value: Any) -> str:
    if is_blank(value):
        return "is empty"
    if isinstance(value, (bool, np.bool_)):
        return f"holds {str(bool(value)).upper()}, not a number"
    if isinstance(value, str):
        if value.strip().upper() in EXCEL_ERRORS:
            return f"holds the error {value.strip().upper()}"
        try:
            float(value.replace(",", ""))
        except ValueError:
            return f"holds text {value[:40]!r}, not a number"
        return f"holds the number {value[:40]!r} stored as text; convert it to a number"
    if isinstance(value, float) and not np.isfinite(value):
        return f"holds {value}, not a finite number"
    return f"holds {type(value).__name__} {str(value)[:40]!r}, not a number"


def _plain_numbers(arr: np.ndarray) -> np.ndarray | None:
    """The common case fast: a grid of only Python floats and ints (no blanks, text or
    TRUE/FALSE, since bool is its own type) as float64; None for anything else."""
    if arr.dtype != object or arr.size == 0:
        return None
    values = arr.ravel().tolist()
    if not set(map(type, values)) <= {float, int}:
        return None
    try:
        return np.array(values, dtype=np.float64).reshape(arr.shape)
    except OverflowError:  # a Python int beyond float64: let the cell-by-cell path name it
        return None


def numbers(name: str, value: Any, *, allow_empty: bool = False) -> np.ndarray:
    """A range as a 2-D float64 array, trailing blanks dropped; anything else is refused."""
    if value is None:
        if allow_empty:
            return np.zeros((0, 0))
        raise LSTMError(f"{name} is empty: expected numbers")
    arr = grid(value, name)
    plain = _plain_numbers(arr)
    if plain is not None:
        return _finite(name, plain)
    arr = _trim(arr)
    if arr.size == 0:
        if allow_empty:
            return np.zeros((0, 0))
        raise LSTMError(f"{name} is empty: expected numbers")
    if arr.dtype.kind in "fiu":
        out = arr.astype(np.float64)
    else:
        out = np.empty(arr.shape, np.float64)
        for (r, c), v in np.ndenumerate(arr):
            if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)):
                try:
                    out[r, c] = v
                except OverflowError:  # a Python int beyond float64
                    raise LSTMError(
                        f"{name}: the cell at row {r + 1}, column {c + 1} holds a {len(str(v))}-digit number, too large for a float"
                    ) from None
            else:
                raise LSTMError(f"{name}: the cell at row {r + 1}, column {c + 1} {_describe(v)}")
    return _finite(name, out)


def _finite(name: str, out: np.ndarray) -> np.ndarray:
    """Refuse NaN and ±inf cells, naming the first."""
    if not np.isfinite(out).all():
        r, c = np.argwhere(~np.isfinite(out))[0]
        raise LSTMError(f"{name}: the cell at row {r + 1}, column {c + 1} {_describe(float(out[r, c]))}")
    return out


def vector_or_none(name: str, value: Any, length: int) -> np.ndarray | None:
    """A row or column of ``length`` numbers, or None when the range is entirely blank."""
    arr = numbers(name, value, allow_empty=True)
    if arr.size == 0:
        return None
    if 1 not in arr.shape:
        raise LSTMError(
            f"{name} must be a row or a column of {length} numbers, got a {arr.shape[0]}×{arr.shape[1]} block"
        )
    if arr.size != length:
        raise LSTMError(f"{name} must have {length} numbers, got {arr.size}")
    return arr.ravel()


def whole_number(name: str, value: Any, *, low: int, default: int | None = None) -> int:
    """A single cell holding a whole number ≥ low (a blank cell means ``default``)."""
    arr = numbers(name, value, allow_empty=default is not None)
    if arr.size == 0:
        return default  # type: ignore[return-value]
    if arr.size != 1:
        raise LSTMError(f"{name} must be a single cell, got {arr.shape[0]}×{arr.shape[1]} cells")
    v = float(arr.flat[0])
    if v != int(v) or v < low:
        raise LSTMError(f"{name} must be a whole number ≥ {low}, got {v:g}")
    if v > 2**53:  # beyond this a float no longer holds every whole number
        raise LSTMError(f"{name} must be a whole number ≥ {low} and at most 2^53, got {v:g}")
    return int(v)
