"""Turning whatever a caller hands over into float arrays, or one clear line.

Every message names the argument and, for a bad element, its position both as a
NumPy index and as a 1-based row/column, since our readers live in spreadsheets.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import LSTMError

FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def shape_str(shape: tuple[int, ...]) -> str:
    """(16, 5) -> '16×5'; () -> 'a single number'."""
    return "×".join(str(n) for n in shape) if shape else "a single number"


def numbers(n: int) -> str:
    """3 -> '3 numbers', 1 -> '1 number'."""
    return f"{n} number" if n == 1 else f"{n} numbers"


def where(index: tuple[int, ...]) -> str:
    """Position of one element, as NumPy and as a spreadsheet reader count it."""
    np_index = "[" + ", ".join(str(i) for i in index) + "]"
    if len(index) == 1:
        return f"{np_index} (item {index[0] + 1})"
    if len(index) == 2:
        return f"{np_index} (row {index[0] + 1}, column {index[1] + 1})"
    return np_index


def check_whole(name: str, value: Any, low: int, high: int | None = None, hint: str = "") -> int:
    """A whole number (not a bool) from low (to high): the one check behind every count argument."""
    if (
        not isinstance(value, (int, np.integer))
        or isinstance(value, bool)
        or value < low
        or (high is not None and value > high)
    ):
        want = f"≥ {low}" if high is None else f"from {low} to {high}"
        raise LSTMError(f"{name} must be a whole number {want}{hint}, got {value!r}")
    return int(value)


def resolve_dtype(dtype: Any) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise LSTMError(f"dtype must be float64 or float32, got {dtype!r}") from exc
    if dt not in FLOAT_DTYPES:
        raise LSTMError(f"dtype must be float64 or float32, got {dt.name}")
    return dt


def _first_non_number(name: str, value: Any) -> LSTMError:
    """Find the element that made float conversion fail and describe it."""
    try:
        objs = np.asarray(value, dtype=object)
    except Exception:  # ragged nesting that NumPy cannot even hold as objects
        return LSTMError(f"{name} must be a rectangular array of numbers, got a ragged nest of lists")
    if objs.dtype == object and objs.ndim >= 1 and any(isinstance(v, (list, tuple)) for v in objs.flat):
        return LSTMError(f"{name} must be a rectangular array of numbers, got rows of different lengths")
    for index in np.ndindex(objs.shape):
        item = objs[index]
        at = f" at {where(index)}" if index else ""
        if item is None:
            return LSTMError(f"{name} must hold numbers, got an empty value (None){at}")
        if isinstance(item, (str, bytes, np.str_, np.bytes_)):  # even "0.5": its meaning depends on the locale
            return LSTMError(f"{name} must hold numbers, got text {str(item)[:40]!r}{at}")
        try:
            float(item)
        except OverflowError:
            return LSTMError(f"{name} must hold numbers that fit in a float, got a {len(str(item))}-digit integer{at}")
        except (TypeError, ValueError):
            shown = f"text {item[:40]!r}" if isinstance(item, str) else repr(item)
            if len(shown) > 48:  # a long repr (a dict of arrays, ...) would bury the message
                shown = f"a {type(item).__name__}"
            return LSTMError(f"{name} must hold numbers, got {shown}{at}")
    return LSTMError(f"{name} must hold numbers, got {type(value).__name__}")


def _cast(name: str, arr: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """arr as dtype; a finite number too large for dtype is refused, never turned into inf."""
    with np.errstate(over="ignore"):
        out = np.asarray(arr, dtype=dtype)
    if arr.dtype.kind == "f" and arr.dtype.itemsize > out.dtype.itemsize and out.size:
        too_large = np.isinf(out) & np.isfinite(arr)
        if too_large.any():
            index = tuple(int(i) for i in np.argwhere(too_large)[0])
            raise LSTMError(f"{name} must fit in {out.dtype.name}, got {float(arr[index]):.3g} at {where(index)}")
    return out


def as_float_array(name: str, value: Any, dtype: np.dtype) -> np.ndarray:
    """``value`` as an array of ``dtype``; text, None or ragged input is an LSTMError."""
    if value is None:
        raise LSTMError(f"{name} is missing: expected an array of numbers")
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, without importing torch
        value = value.detach().cpu().numpy()
    if isinstance(value, (str, bytes)):
        raise LSTMError(f"{name} must hold numbers, got text {value!r}")
    try:
        arr = np.asarray(value) if not isinstance(value, np.ndarray) else value
    except (TypeError, ValueError, OverflowError):  # ragged nesting
        raise _first_non_number(name, value) from None
    if arr.dtype.kind in "fiu" or arr.dtype == np.bool_:
        return _cast(name, arr, dtype)
    if arr.dtype.kind == "c":
        raise LSTMError(f"{name} must hold real numbers, got complex values")
    if arr.dtype.kind in "mM":
        raise LSTMError(f"{name} must hold numbers, got dates or times ({arr.dtype})")
    if arr.dtype.kind in "US" or (
        arr.dtype == object and any(v is None or isinstance(v, (str, bytes)) for v in arr.flat)
    ):
        raise _first_non_number(name, value)  # NumPy would turn None into NaN and parse "0.5"
    try:
        return _cast(name, np.asarray(arr, dtype=np.float64), dtype)
    except (TypeError, ValueError, OverflowError):
        raise _first_non_number(name, value) from None


def check_finite(name: str, arr: np.ndarray) -> np.ndarray:
    """Refuse NaN and ±inf, naming the first one found."""
    if arr.size and not np.isfinite(arr).all():
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        at = f" at {where(index)}" if index else ""
        raise LSTMError(f"{name} must be finite numbers, got {arr[index]}{at}")
    return arr


def finite_array(name: str, value: Any, dtype: np.dtype) -> np.ndarray:
    return check_finite(name, as_float_array(name, value, dtype))


def as_vector(name: str, value: Any, length: int | None, dtype: np.dtype) -> np.ndarray:
    """A 1-D array; a single row or column (n×1, 1×n) is accepted as a vector."""
    arr = finite_array(name, value, dtype)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    elif arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        want = numbers(length) if length is not None else "a row or a column of numbers"
        raise LSTMError(f"{name} must be {want}, got an array of shape {shape_str(arr.shape)}")
    if length is not None and arr.shape[0] != length:
        raise LSTMError(f"{name} must have {numbers(length)}, got {arr.shape[0]}")
    return arr
