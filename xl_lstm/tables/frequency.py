"""The one frequency of a table, and a frequency in words.

The dates of a table follow one frequency (``series_file``'s ``frequency_code``), told from
a series of 3 dates or more; a series of one or two dates takes the table's. A regular
frequency that ``FREQUENCIES`` does not know (every 15 minutes, every 2 months) keeps its
dates and code, with ``STEPS``' season and hold-out. Step numbers go up by one.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import LSTMError
from .cells import stamp, when
from .series_file import STEPS, Frequency, frequency_code, frequency_of

__all__ = ["add_offset", "frequency_words", "offset_of", "one_frequency"]


def offset_of(code: str) -> Any:
    from pandas.tseries.frequencies import to_offset

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return to_offset(code)


def add_offset(ds: pd.Series | pd.DatetimeIndex, offset: Any) -> Any:
    with warnings.catch_warnings():  # some offsets are applied one date at a time and say so
        warnings.simplefilter("ignore")
        return ds + offset


def frequency_words(code: str | None) -> str:
    """A frequency in words: 'monthly (MS)', 'every 15min', or 'numbered by steps' for no code."""
    if code is None:
        return "numbered by steps"
    f = frequency_of(code)
    return f"{f.adjective} ({code})" if f is not None else f"every {code}"


def one_frequency(source: str, long: pd.DataFrame, id_order: list[str]) -> tuple[Frequency, str | None]:
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
            raise LSTMError(f"{source}: its dates ({stamp(union[0])}, {stamp(union[1])}, ...) follow no one frequency")
    else:
        s0, n0 = where[first]
        code = frequency_code(pd.DatetimeIndex(ds.iloc[s0 : s0 + n0]))
        if code is None:
            raise LSTMError(_irregular(source, first, pd.DatetimeIndex(ds.iloc[s0 : s0 + n0])))
    offset = offset_of(code)
    values = pd.DatetimeIndex(ds)
    off_calendar = np.flatnonzero(add_offset(add_offset(values, -offset), offset) != values)
    off_step = np.flatnonzero(same & (values[1:] != add_offset(values[:-1], offset)))
    if len(off_calendar) or len(off_step):
        k = min([int(off_calendar[0])] if len(off_calendar) else [], default=len(uid))
        k = min(k, int(off_step[0]) + 1 if len(off_step) else len(uid))
        u = str(uid[k])
        s, n = where[u]
        own = frequency_code(pd.DatetimeIndex(ds.iloc[s : s + n])) if n >= 3 else None
        if own is not None and own != code:
            raise LSTMError(
                f"{source}: series {u!r} is {frequency_words(own)} but series {first!r} is {frequency_words(code)}; "
                "one table holds series of one frequency: split it into one file per frequency"
            )
        if len(off_calendar) and int(off_calendar[0]) == k:  # a series' first date is never off a step
            raise LSTMError(
                f"{source}: series {u!r}: {when(values.to_numpy(), k)} is not a date of the table's "
                f"{frequency_words(code)} calendar; fix the date (e.g. {when(add_offset(values[k : k + 1], -offset).to_numpy(), 0)})"
            )
        expected = add_offset(values[k - 1 : k], offset)
        raise LSTMError(
            f"{source}: series {u!r}: {when(values.to_numpy(), k)} follows {when(values.to_numpy(), k - 1)}, but the "
            f"table is {frequency_words(code)}: the next date is {when(expected.to_numpy(), 0)}; add the missing rows or fix the date"
        )
    f = frequency_of(code)
    return (f if f is not None else STEPS), code


def _irregular(source: str, uid: str, dates: pd.DatetimeIndex) -> str:
    """One line on where a series' dates stop being regular."""
    code = frequency_code(dates[:3])
    if code is None:
        return (
            f"{source}: series {uid!r}: its first dates {', '.join(stamp(d) for d in dates[:3])} are not "
            "one step apart; the dates must follow one frequency (fix them or add the missing rows)"
        )
    expected = pd.date_range(dates[0], periods=len(dates), freq=code)
    off = np.flatnonzero(expected != dates)
    if not len(off):
        return f"{source}: series {uid!r}: its dates follow no frequency pandas can tell; fix them"
    k = int(off[0])
    return (
        f"{source}: series {uid!r}: {stamp(dates[k])} follows {stamp(dates[k - 1])}, but its dates before it are "
        f"{frequency_words(code)} (the next would be {stamp(expected[k])}); add the missing rows or fix the date"
    )
