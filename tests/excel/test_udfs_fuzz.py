"""Fuzzing the Excel functions with whatever a range can hold.

One argument at a time gets a random range (1..6 × 1..6 cells, a bare value, or
None) of floats (NaN, ±inf, huge, subnormal), ints, blanks (None, ""), text,
numbers stored as text, error values, TRUE/FALSE; the other arguments stay valid.
Whatever comes in, a function returns a finite 2-D array (LSTM_METRICS may show
NaN only where documented: MAPE, MASE) or one line "FUNC: ..." that is not one of
our "please report this" bugs. It never raises and never warns.

The same property is checked through xlwings' own converter on a seeded batch of
random Office.js payloads, run in one subprocess (tests/xlwings_driver.py).
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xl_lstm as xl
from tests.xlwings_driver import payload, run_payloads, xl_error
from xl_lstm import udfs
from xl_lstm.forecasting.metrics import METRICS

NAN_ALLOWED = {"MAPE", "MASE"}  # undefined for the data: an actual of 0, a naive scale of 0

# ---- a small valid model and valid arguments for each function -----------------------
P = xl.init_params(1, 2, seed=1, output_size=1)  # D=1, H=2
W, B = P.W.copy(), P.b[:, None].copy()  # (8, 3), (8, 1)
X = np.array([[0.5], [-1.0], [0.25], [2.0], [1.5]])
VALID: dict[str, tuple[Callable[..., Any], str, list[Any]]] = {
    "lstm_step": (udfs.lstm_step, "LSTM_STEP", [X[:1], np.array([[0.1, -0.2]]), np.array([[0.3], [0.4]]), W, B]),
    "lstm_sequence": (udfs.lstm_sequence, "LSTM_SEQUENCE", [X, W, B, None, None, "all"]),
    "lstm_forecast": (
        udfs.lstm_forecast,
        "LSTM_FORECAST",
        [X, W, B, P.W_y.copy(), np.array([[0.0]]), np.array([[3.0]]), np.array([[0.0, 1.0]])],
    ),
    "lstm_metrics": (
        udfs.lstm_metrics,
        "LSTM_METRICS",
        [
            np.array([[1.0], [2.0], [4.0], [3.0]]),
            np.array([[1.5], [2.0], [3.0], [3.5]]),
            np.array([[1.0]]),
            np.array([[1.0], [3.0], [2.0], [5.0], [4.0]]),
        ],
    ),
    "lstm_init": (udfs.lstm_init, "LSTM_INIT", [np.array([[1.0]]), np.array([[2.0]]), np.array([[0.0]])]),
}
POSITIONS = [(name, k) for name, (_, _, args) in VALID.items() for k in range(len(args))]


def check(func: str, result: Any) -> None:
    """The property: a finite 2-D array or one line of our own text, nothing else."""
    if isinstance(result, str):
        assert result.startswith(f"{func}: "), result
        assert "\n" not in result and "\r" not in result, result
        assert "please report" not in result, result  # an exception we did not foresee
        return
    assert isinstance(result, np.ndarray), f"{func} returned {type(result).__name__}: {result!r}"
    assert result.ndim == 2 and result.size > 0, result.shape
    if func == "LSTM_METRICS":
        assert result.shape == (5, 2) and list(result[:, 0]) == list(METRICS)
        values = result[:, 1].astype(float)
        assert not np.isinf(values).any(), result
        nan = {m for m, v in zip(METRICS, values, strict=True) if np.isnan(v)}
        assert nan <= NAN_ALLOWED, f"NaN where it is not documented: {nan}"
    else:
        assert result.dtype == np.float64 and np.isfinite(result).all(), result


def call_quietly(fn: Callable[..., Any], args: list[Any]) -> Any:
    """Call fn with an empty cache (so every example computes) and fail on any warning."""
    udfs.CACHE.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn(*args)
    assert not caught, [f"{w.category.__name__}: {w.message}" for w in caught]
    return result


# ---- what a range may hold ----------------------------------------------------------
HUGE = [1e308, -1e308, 1.7976931348623157e308, 1e300, -1e200, 5e-324, -2.2e-308]
CELL = st.one_of(
    st.floats(),  # NaN, ±inf, huge and subnormal included
    st.sampled_from(HUGE),
    st.integers(-1000, 1000),
    st.sampled_from([10**12, 2**63 - 1, -(2**63)]),
    st.none(),
    st.just(""),
    st.text(max_size=6),
    st.sampled_from(["12.5", "1,000", " 3 ", "-0", "1e3", "nan", "inf"]),
    st.sampled_from(["#N/A", "#DIV/0!", "#VALUE!"]),
    st.booleans(),
)
SHAPES = st.tuples(st.integers(1, 6), st.integers(1, 6))


@st.composite
def ranges(draw: st.DrawFn) -> Any:
    """None, a bare value, or a 2-D range: object cells of any kind, or all floats."""
    kind = draw(st.sampled_from(["none", "bare", "cells", "floats"]))
    if kind == "none":
        return None
    if kind == "bare":
        return draw(CELL)
    rows, cols = draw(SHAPES)
    if kind == "floats":
        numbers = st.one_of(st.floats(-5, 5), st.floats(), st.sampled_from(HUGE))
        return np.array(draw(st.lists(numbers, min_size=rows * cols, max_size=rows * cols))).reshape(rows, cols)
    values = draw(st.lists(CELL, min_size=rows * cols, max_size=rows * cols))
    grid = np.empty((rows, cols), dtype=object)
    grid.ravel()[:] = values
    return grid


def test_valid_arguments_are_valid() -> None:
    """The baseline each fuzz case departs from computes (so a refusal is the fuzzed argument's doing)."""
    for name, (fn, func, args) in VALID.items():
        result = call_quietly(fn, args)
        assert isinstance(result, np.ndarray), f"{name}: {result}"
        check(func, result)


@pytest.mark.parametrize(("name", "position"), POSITIONS, ids=[f"{n}-arg{k}" for n, k in POSITIONS])
@settings(max_examples=40)
@given(value=ranges())
def test_any_range_in_any_position(name: str, position: int, value: Any) -> None:
    """Any range content in one argument gives a finite array or one line of text; no raise, no warning."""
    fn, func, args = VALID[name]
    args = list(args)
    args[position] = value
    check(func, call_quietly(fn, args))


NUMBER = st.one_of(st.floats(-3, 3), st.floats(), st.sampled_from(HUGE), st.integers(-5, 5))
ARRAY_POSITIONS = [(n, k) for n, k in POSITIONS if isinstance(VALID[n][2][k], np.ndarray)]


def same_shape(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """Ranges of the valid argument's shape: all numbers (reaching the arithmetic), or any cells."""
    n = int(np.prod(shape))

    def objects(values: list[Any]) -> np.ndarray:
        grid = np.empty(n, dtype=object)
        grid[:] = values
        return grid.reshape(shape)

    return st.one_of(
        st.lists(NUMBER, min_size=n, max_size=n).map(objects),
        st.lists(st.one_of(st.floats(), st.sampled_from(HUGE)), min_size=n, max_size=n).map(
            lambda v: np.reshape(v, shape)
        ),
        st.lists(st.one_of(NUMBER, CELL), min_size=n, max_size=n).map(objects),
    )


@pytest.mark.parametrize(("name", "position"), ARRAY_POSITIONS, ids=[f"{n}-arg{k}" for n, k in ARRAY_POSITIONS])
@settings(max_examples=40)
@given(data=st.data())
def test_any_numbers_in_the_valid_shape(name: str, position: int, data: st.DataObject) -> None:
    """Huge, tiny, infinite or NaN numbers where the shape is right: still finite results or one line."""
    fn, func, args = VALID[name]
    args = list(args)
    args[position] = data.draw(same_shape(args[position].shape), label="value")
    check(func, call_quietly(fn, args))


@settings(max_examples=60)
@given(x=ranges(), w=ranges(), b=ranges())
def test_step_with_three_random_arguments(x: Any, w: Any, b: Any) -> None:
    """Several bad arguments at once: still one finite row or one line, whichever comes first."""
    check("LSTM_STEP", call_quietly(udfs.lstm_step, [x, None, None, w, b]))


# ---- the same property through xlwings' converter -------------------------------------
def _as_cells(value: Any) -> list[list[Any]]:
    arr = np.asarray(value, dtype=object)
    return arr.reshape(arr.shape[0] if arr.ndim == 2 else 1, -1).tolist()


def _random_cell(rng: random.Random) -> Any:
    makers = [
        lambda: rng.uniform(-3, 3),
        lambda: rng.choice([1e308, -1e308, 1e-310, 0.0, -0.0]),
        lambda: rng.randint(-5, 50),
        lambda: None,
        lambda: "",
        lambda: rng.choice(["abc", "x y", "Ω", "TRUE"]),
        lambda: rng.choice(["12.5", "1,000", " 3 "]),
        lambda: xl_error(rng.choice(["#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?"])),
        lambda: rng.choice([True, False]),
    ]
    return rng.choice(makers)()


def _random_number(rng: random.Random) -> float:
    return rng.uniform(-3, 3) if rng.random() < 0.95 else rng.choice([1e308, -1e308, 1e-310])


def _random_range(rng: random.Random, shape: tuple[int, int] | None) -> Any:
    """None, one cell, a random block, or (half the time when there is one) the valid shape."""
    r = rng.random()
    if shape is not None and r < 0.5:
        cell = _random_number if rng.random() < 0.6 else _random_cell  # numbers only reach the arithmetic
        return [[cell(rng) for _ in range(shape[1])] for _ in range(shape[0])]
    if r < 0.1:
        return None
    if r < 0.3:
        return [[_random_cell(rng)]]
    rows, cols = rng.randint(1, 6), rng.randint(1, 6)
    return [[_random_cell(rng) for _ in range(cols)] for _ in range(rows)]


def _server_batch(n: int = 100, seed: int = 20240611) -> list[tuple[str, dict[str, Any]]]:
    """n seeded payloads: valid Office.js arguments with one or two replaced by random ranges,
    or (one in six) left valid with blank rows below the first range, as a whole column would be."""
    rng = random.Random(seed)
    batch = []
    for k in range(n):
        name = list(VALID)[k % len(VALID)]
        _, func, args = VALID[name]
        cells = [None if a is None else [[a]] if isinstance(a, str) else _as_cells(a) for a in args]
        if rng.random() < 1 / 6:
            cells[0] += [[rng.choice([None, ""])] * len(cells[0][0])] * rng.randint(1, 9)
            batch.append((func, payload(name, *cells)))
            continue
        for _ in range(rng.choice([1, 1, 1, 2])):
            pos = rng.randrange(len(cells))
            shape = args[pos].shape if isinstance(args[pos], np.ndarray) else None
            cells[pos] = _random_range(rng, shape)
        batch.append((func, payload(name, *cells)))
    return batch


SERVER_BATCH = _server_batch()


@pytest.fixture(scope="module")
def server_results() -> list[dict[str, Any]]:
    """The whole batch through xlwings.server.custom_functions_call, in one subprocess."""
    return run_payloads([p for _, p in SERVER_BATCH])["results"]


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)


def test_random_payloads_through_xlwings(server_results: list[dict[str, Any]]) -> None:
    """Every random payload comes back as a 2-D list of numbers or one "FUNC: ..." line; none raised or warned."""
    assert len(server_results) == len(SERVER_BATCH)
    kinds = {"numbers": 0, "refusals": 0}
    for (func, sent), res in zip(SERVER_BATCH, server_results, strict=True):
        where = f"{func} args={sent['args']!r}"[:400]
        assert "raised" not in res, f"{where}: raised {res['raised']}"
        assert res["warnings"] == [], f"{where}: warned {res['warnings']}"
        cells = res["value"]
        assert isinstance(cells, list) and cells and all(isinstance(r, list) and r for r in cells), where
        if len(cells) == 1 and len(cells[0]) == 1 and isinstance(cells[0][0], str):
            line = cells[0][0]
            assert line.startswith(f"{func}: ") and "\n" not in line and "please report" not in line, f"{where}: {line}"
            kinds["refusals"] += 1
        elif func == "LSTM_METRICS":
            assert [r[0] for r in cells] == list(METRICS), f"{where}: {cells}"
            for metric, v in cells:
                ok = _is_number(v) or (metric in NAN_ALLOWED and v == {"type": "Error", "errorType": "Num"})
                assert ok, f"{where}: {metric} = {v!r}"
            kinds["numbers"] += 1
        else:
            assert all(_is_number(v) for r in cells for v in r), f"{where}: {cells}"
            kinds["numbers"] += 1
    # The batch exercises both outcomes, so the property above is not vacuous.
    assert kinds["numbers"] >= 20 and kinds["refusals"] >= 50, kinds


# ---- trim_rows: the trailing-blank trim xlwings' converter runs before any per-cell work ----------
_CELL = st.sampled_from([None, "", 1.0, "x", 0, False])


def _trim_by_hand(rows):  # type: ignore[no-untyped-def]
    from xl_lstm.excel.ranges import is_blank

    n = len(rows)
    while n and all(is_blank(v) for v in rows[n - 1]):
        n -= 1
    width = max([max([j + 1 for j, v in enumerate(r) if not is_blank(v)], default=0) for r in rows[:n]], default=0)
    return [list(r[:width]) for r in rows[:n]]


@given(
    st.integers(1, 4).flatmap(lambda w: st.lists(st.lists(_CELL, min_size=w, max_size=w), max_size=12)), st.booleans()
)
def test_trim_rows_drops_exactly_the_trailing_blanks(rows, as_tuples) -> None:  # type: ignore[no-untyped-def]
    from xl_lstm.excel.ranges import trim_rows

    given_rows = tuple(tuple(r) for r in rows) if as_tuples else rows  # COM hands over tuples
    assert [list(r) for r in trim_rows(given_rows)] == _trim_by_hand(rows)
