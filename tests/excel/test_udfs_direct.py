"""The Excel functions called directly, with what xlwings hands over after conversion.

xlwings reads every range argument as a 2-D object array (``xl_lstm.udfs.RANGE``)
holding each cell as it is: floats and ints, None for a blank, str for text, numbers
stored as text and error values ("#N/A"), bools for TRUE/FALSE. Other callers may
pass plain 2-D float arrays, so both are used here, rows and columns alike. Results
must equal the engine's, bad cells must come back as one line naming the function,
the argument and the cell, and unchanged calls must come from the cache.
"""

from __future__ import annotations

import numpy as np
import pytest

import xl_lstm as xl
from xl_lstm import udfs
from xl_lstm.forecasting.metrics import METRICS, error_metrics
from xl_lstm.lstm.recursive import recursive_forecast
from xl_lstm.udfs import ResultCache

H, D = 4, 1
RNG = np.random.default_rng(20240611)
W = RNG.uniform(-0.8, 0.8, (4 * H, H + D))  # (16, 5)
B = RNG.uniform(-0.5, 0.5, 4 * H)  # (16,)
W_Y = RNG.uniform(-0.6, 0.6, (D, H))  # (1, 4)
B_Y = np.array([0.05])
PARAMS = xl.LSTMParams(W, B)
X = RNG.standard_normal((9, D))  # (T, D) = (9, 1)
H0 = RNG.uniform(-0.9, 0.9, H)
C0 = RNG.uniform(-2.0, 2.0, H)
QUANTITIES = ("i", "f", "g", "c", "o", "h")  # the sheet's column blocks, H columns each


def col(values) -> np.ndarray:
    """A column range as xlwings hands it over: n×1 floats."""
    return np.asarray(values, dtype=float).reshape(-1, 1)


def row(values) -> np.ndarray:
    """A row range as xlwings hands it over: 1×n floats."""
    return np.asarray(values, dtype=float).reshape(1, -1)


def cells(rows) -> np.ndarray:
    """A mixed range as xlwings hands it over: a 2-D object array (None = blank cell)."""
    return np.array(rows, dtype=object).reshape(len(rows), -1)


def one_line(result, func: str) -> str:
    """Assert result is a one-line refusal of `func` and return it."""
    assert isinstance(result, str), f"expected a refusal, got {type(result).__name__}: {result!r}"
    assert result.startswith(f"{func}: "), result
    assert "\n" not in result and "\r" not in result, result
    assert "please report" not in result, result  # an exception we did not foresee
    return result


@pytest.fixture(autouse=True)
def fresh_cache():
    """Every test starts and ends with an empty result cache and zeroed counters."""
    udfs.CACHE.clear()
    yield
    udfs.CACHE.clear()


# ---- results equal the engine's -------------------------------------------------
def test_step_equals_the_engine_step() -> None:
    """LSTM_STEP on a first row (blank states) is engine.step's i|f|g|C|o|h as one 1×6H row."""
    out = udfs.lstm_step(X[:1], None, None, W, col(B))
    assert isinstance(out, np.ndarray) and out.shape == (1, 6 * H)
    np.testing.assert_array_equal(out, xl.step(PARAMS, X[0]).row()[None, :])


@pytest.mark.parametrize("b_shape", [col, row], ids=["b-column", "b-row"])
@pytest.mark.parametrize("state_shape", [col, row], ids=["states-columns", "states-rows"])
def test_step_takes_rows_or_columns(b_shape, state_shape) -> None:
    """b, h_prev and c_prev may be rows or columns: the numbers, not the orientation, count."""
    out = udfs.lstm_step(X[3:4], state_shape(H0), state_shape(C0), W, b_shape(B))
    np.testing.assert_array_equal(out, xl.step(PARAMS, X[3], H0, C0).row()[None, :])


@pytest.mark.parametrize("x_shape", [col, row], ids=["x-column", "x-row"])
def test_step_with_two_inputs(x_shape) -> None:
    """D comes from x_t (here 2 inputs, as a row or a column), H from b."""
    params = xl.init_params(2, 3, seed=5)
    x = np.array([0.7, -1.3])
    out = udfs.lstm_step(x_shape(x), None, None, params.W, col(params.b))
    np.testing.assert_array_equal(out, xl.step(params, x).row()[None, :])


@pytest.mark.parametrize("blank", [None, ""], ids=["None", "empty-string"])
def test_blank_state_cells_mean_zeros(blank) -> None:
    """h_prev/c_prev ranges whose cells are all blank (the row above the first step) are zeros."""
    empty = cells([[blank] * H])
    out = udfs.lstm_step(X[:1], empty, empty, W, col(B))
    np.testing.assert_array_equal(out, xl.step(PARAMS, X[0], np.zeros(H), np.zeros(H)).row()[None, :])


def test_step_chained_row_by_row_equals_run() -> None:
    """LSTM_STEP filled down a sheet (h and C read from the row above) reproduces run() over X."""
    rows, h_prev, c_prev = [], None, None
    for t in range(len(X)):
        out = udfs.lstm_step(X[t : t + 1], h_prev, c_prev, W, col(B))
        rows.append(out[0])
        c_prev, h_prev = out[:, 3 * H : 4 * H], out[:, 5 * H : 6 * H]  # the C and h cells of this row
    expected = xl.run(PARAMS, X).table()  # (T, 6H)
    np.testing.assert_allclose(np.array(rows), expected, rtol=1e-13, atol=1e-15)


def test_sequence_equals_run_table() -> None:
    """LSTM_SEQUENCE with outputs omitted spills run()'s T×6H table."""
    out = udfs.lstm_sequence(X, W, col(B))
    np.testing.assert_array_equal(out, xl.run(PARAMS, X).table())


def test_sequence_row_of_one_series_runs_down_time() -> None:
    """With D=1 a 1×T row is one series, the same as the T×1 column."""
    np.testing.assert_array_equal(udfs.lstm_sequence(X.T, W, col(B)), xl.run(PARAMS, X).table())


def test_sequence_starting_states() -> None:
    """h0 and c0 (a row and a column) start the sequence where the engine would."""
    out = udfs.lstm_sequence(X, W, row(B), row(H0), col(C0))
    np.testing.assert_array_equal(out, xl.run(PARAMS, X, H0, C0).table())


@pytest.mark.parametrize(
    ("outputs", "names"),
    [
        ("all", QUANTITIES),
        ("ALL", QUANTITIES),
        (None, QUANTITIES),
        ("", QUANTITIES),
        ("h", ("h",)),
        ("c,h", ("c", "h")),
        ("C H", ("c", "h")),
        (" o ; i ", ("o", "i")),
    ],
)
def test_sequence_outputs_pick_column_blocks(outputs, names) -> None:
    """outputs names H-column blocks of the full table, in the order asked for."""
    full = xl.run(PARAMS, X).table()
    blocks = {q: full[:, k * H : (k + 1) * H] for k, q in enumerate(QUANTITIES)}
    out = udfs.lstm_sequence(X, W, col(B), None, None, outputs)
    np.testing.assert_array_equal(out, np.hstack([blocks[n] for n in names]))


@pytest.mark.parametrize("blank", [None, ""], ids=["None", "empty-string"])
def test_whole_column_reads_as_its_data(blank) -> None:
    """A whole-column reference (A:A, B:C) arrives with trailing blank rows; they are ignored."""
    grid = [[float(v), blank] for v in X[:, 0]] + [[blank, blank]] * 40
    out = udfs.lstm_sequence(
        cells(grid), cells(W.tolist() + [[blank] * (H + D)] * 3), cells([[v] for v in B] + [[blank]] * 7)
    )
    np.testing.assert_array_equal(out, xl.run(PARAMS, X).table())


def test_object_arrays_of_numbers_equal_float_arrays() -> None:
    """Numbers in an object array (a range xlwings read cell by cell) give the same result."""
    as_objects = udfs.lstm_sequence(cells(X.tolist()), cells(W.tolist()), cells([[v] for v in B]))
    np.testing.assert_array_equal(as_objects, xl.run(PARAMS, X).table())


@pytest.mark.parametrize("scale", [None, [[0.3, 2.5]], [[0.3], [2.5]]], ids=["no-scale", "scale-row", "scale-column"])
def test_forecast_equals_recursive_forecast(scale) -> None:
    """LSTM_FORECAST is recursive_forecast with the head, horizon and scaler read from cells."""
    out = udfs.lstm_forecast(
        X, W, col(B), W_Y, cells([[B_Y[0]]]), cells([[6]]), None if scale is None else np.array(scale)
    )
    center, spread = (0.0, 1.0) if scale is None else (0.3, 2.5)
    expected = recursive_forecast(xl.LSTMParams(W, B, W_Y, B_Y), X, 6, center, spread)
    assert out.shape == (6, 1)
    np.testing.assert_array_equal(out, expected)


def test_forecast_head_as_a_column_and_blank_b_y() -> None:
    """W_y may be an H×1 column for one output; a blank b_y means zeros."""
    out = udfs.lstm_forecast(X.T, W, col(B), W_Y.T, cells([[None]]), col([3.0]))
    np.testing.assert_array_equal(out, recursive_forecast(xl.LSTMParams(W, B, W_Y, np.zeros(1)), X, 3))


def test_forecast_two_inputs_with_a_2xD_scaler() -> None:
    """With D=2 the scaler is two rows (centers, scales) of D cells each."""
    params = xl.init_params(2, 3, seed=11, output_size=2)
    hist = RNG.standard_normal((7, 2))
    scale = np.array([[1.0, -2.0], [0.5, 3.0]])
    out = udfs.lstm_forecast(hist, params.W, row(params.b), params.W_y, row(params.b_y), col([4]), scale)
    np.testing.assert_array_equal(out, recursive_forecast(params, hist, 4, scale[0], scale[1]))


def test_metrics_equal_error_metrics() -> None:
    """LSTM_METRICS is a 5×2 table of the metric names and error_metrics' values."""
    actual, predicted = RNG.uniform(1, 5, 12), RNG.uniform(1, 5, 12)
    history = RNG.uniform(1, 5, 30)
    out = udfs.lstm_metrics(col(actual), row(predicted), cells([[4]]), col(history))
    expected = error_metrics(actual, predicted, 4, history)
    assert out.shape == (5, 2)
    assert list(out[:, 0]) == list(METRICS)
    assert list(out[:, 1]) == [expected[k] for k in METRICS]


def test_metrics_defaults_and_the_documented_nan() -> None:
    """Omitted season/history mean 1 and actual; MAPE with an actual of 0 is NaN, not a number."""
    actual, predicted = np.array([2.0, 0.0, 3.0, 5.0]), np.array([1.5, 0.5, 3.0, 4.0])
    out = udfs.lstm_metrics(col(actual), col(predicted))
    expected = error_metrics(actual, predicted)
    values = dict(zip(out[:, 0], out[:, 1], strict=True))
    assert np.isnan(values["MAPE"]) and np.isnan(expected["MAPE"])
    for name in ("MAE", "RMSE", "sMAPE", "MASE"):
        assert values[name] == expected[name]


@pytest.mark.parametrize(("seed", "expected_seed"), [(cells([[7]]), 7), (None, 0), (cells([[None]]), 0)])
def test_init_equals_init_params(seed, expected_seed) -> None:
    """LSTM_INIT is init_params' W with b as the last column; a blank seed means 0."""
    out = udfs.lstm_init(cells([[2]]), col([3.0]), seed)
    p = xl.init_params(2, 3, seed=expected_seed)
    assert out.shape == (12, 6)
    np.testing.assert_array_equal(out, np.hstack([p.W, p.b[:, None]]))


# ---- refusals: one line naming the function, the argument and the cell ------------
def test_wrong_W_gets_the_documented_message() -> None:
    """The README's example message, word for word."""
    out = udfs.lstm_step(X[:1], None, None, W[:, :4], col(B))
    assert out == "LSTM_STEP: W must be 4H×(H+D) = 16×5 (H=4 from b's 16 numbers, D=1 from x_t), got 16×4"


def _with(grid: np.ndarray, r: int, c: int, value) -> np.ndarray:
    """A copy of grid as an object array with one cell replaced."""
    out = np.array(grid, dtype=object)
    out[r, c] = value
    return out


BAD_CELLS = [
    ("abc", "holds text 'abc', not a number"),
    ("12.5", "holds the number '12.5' stored as text; convert it to a number"),
    ("#N/A", "holds the error #N/A"),
    ("#DIV/0!", "holds the error #DIV/0!"),
    (None, "is empty"),
    ("", "is empty"),
    (True, "holds TRUE, not a number"),
    (False, "holds FALSE, not a number"),
]


@pytest.mark.parametrize(("value", "says"), BAD_CELLS, ids=[repr(v) for v, _ in BAD_CELLS])
def test_bad_cell_in_W_is_named(value, says) -> None:
    """A bad cell inside W: LSTM_STEP names W and the cell (row 3, column 2)."""
    out = udfs.lstm_step(X[:1], None, None, _with(W, 2, 1, value), col(B))
    assert one_line(out, "LSTM_STEP") == f"LSTM_STEP: W: the cell at row 3, column 2 {says}"


@pytest.mark.parametrize(("value", "says"), BAD_CELLS, ids=[repr(v) for v, _ in BAD_CELLS])
def test_bad_cell_in_X_is_named(value, says) -> None:
    """A bad cell inside X: LSTM_SEQUENCE names X and the cell (row 4, column 1)."""
    out = udfs.lstm_sequence(_with(X, 3, 0, value), W, col(B))
    assert one_line(out, "LSTM_SEQUENCE") == f"LSTM_SEQUENCE: X: the cell at row 4, column 1 {says}"


REFUSALS = [
    (
        "LSTM_STEP",
        lambda: udfs.lstm_step(cells([["#N/A"]]), None, None, W, col(B)),
        "x_t: the cell at row 1, column 1 holds the error #N/A",
    ),
    (
        "LSTM_STEP",
        lambda: udfs.lstm_step(X[:1], _with(row(H0), 0, 2, "x"), None, W, col(B)),
        "h_prev: the cell at row 1, column 3 holds text 'x'",
    ),
    ("LSTM_STEP", lambda: udfs.lstm_step(X[:1], None, None, W, None), "b is empty: expected numbers"),
    (
        "LSTM_STEP",
        lambda: udfs.lstm_step(np.ones((2, 2)), None, None, W, col(B)),
        "x_t must be one row (or column) of D inputs, got a 2×2 block",
    ),
    ("LSTM_STEP", lambda: udfs.lstm_step(X[:1], row(H0[:3]), None, W, col(B)), "h_prev must have 4 numbers, got 3"),
    ("LSTM_STEP", lambda: udfs.lstm_step(X[:1], None, None, W, col(B[:15])), "b must have 4H numbers"),
    (
        "LSTM_SEQUENCE",
        lambda: udfs.lstm_sequence(X, W, col(B), None, None, "z"),
        "outputs must be all or names from i, f, g, c, o, h",
    ),
    ("LSTM_SEQUENCE", lambda: udfs.lstm_sequence(X, W, col(B), None, None, 3.0), "outputs must be text"),
    (
        "LSTM_SEQUENCE",
        lambda: udfs.lstm_sequence(cells([[1.0], [None], [2.0]]), W, col(B)),
        "X: the cell at row 2, column 1 is empty",
    ),
    (
        "LSTM_FORECAST",
        lambda: udfs.lstm_forecast(X, W, col(B), W_Y, None, cells([[2.5]])),
        "horizon must be a whole number ≥ 1, got 2.5",
    ),
    (
        "LSTM_FORECAST",
        lambda: udfs.lstm_forecast(X, W, col(B), W_Y, None, cells([[0]])),
        "horizon must be a whole number ≥ 1, got 0",
    ),
    ("LSTM_FORECAST", lambda: udfs.lstm_forecast(X, W, col(B), None, None, col([3])), "W_y is empty"),
    (
        "LSTM_FORECAST",
        lambda: udfs.lstm_forecast(X, W, col(B), W_Y, None, col([3]), row([0.0, 0.0])),
        "scale must not be 0",
    ),
    (
        "LSTM_METRICS",
        lambda: udfs.lstm_metrics(col([1.0, 2.0]), col([1.0, 2.0, 3.0])),
        "predicted must have as many cells as actual (2), got 3",
    ),
    (
        "LSTM_METRICS",
        lambda: udfs.lstm_metrics(cells([[1.0], ["#VALUE!"]]), col([1.0, 2.0])),
        "actual: the cell at row 2, column 1 holds the error #VALUE!",
    ),
    (
        "LSTM_INIT",
        lambda: udfs.lstm_init(cells([[True]]), col([2])),
        "inputs: the cell at row 1, column 1 holds TRUE, not a number",
    ),
    ("LSTM_INIT", lambda: udfs.lstm_init(col([1]), col([2, 3])), "hidden must be a single cell, got 2×1 cells"),
    ("LSTM_INIT", lambda: udfs.lstm_init(col([1]), col([2000])), "too large for a sheet"),
]


@pytest.mark.parametrize(("func", "call", "says"), REFUSALS, ids=[f"{f}-{k}" for k, (f, _, _) in enumerate(REFUSALS)])
def test_refusals_name_function_and_argument(func, call, says) -> None:
    """Every function turns bad input into one line starting with its Excel name."""
    out = one_line(call(), func)
    assert says in out


def test_a_bug_of_ours_is_still_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected exception inside the work is reported in one line, never raised."""

    def broken(*args):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(udfs.sheet, "lstm_step_row", broken)
    out = udfs.lstm_step(X[:1], None, None, W, col(B))
    assert out == "LSTM_STEP: unexpected RuntimeError: boom second line (please report this)"


# ---- the result cache ---------------------------------------------------------------
def test_repeated_call_comes_from_the_cache_read_only() -> None:
    """An unchanged recalculation (fresh but equal arrays) is a cache hit returning a read-only result."""
    first = udfs.lstm_sequence(X.copy(), W.copy(), col(B))
    hits = udfs.CACHE.hits
    again = udfs.lstm_sequence(X.copy(), W.copy(), col(B))
    assert udfs.CACHE.hits == hits + 1
    assert again is first
    assert not again.flags.writeable
    with pytest.raises(ValueError):
        again[0, 0] = 1.0


def test_one_changed_number_recomputes() -> None:
    """Changing a single weight (even by 1e-12) misses the cache and gives the new engine result."""
    first = udfs.lstm_sequence(X, W, col(B))
    W2 = W.copy()
    W2[5, 2] += 1e-12
    misses = udfs.CACHE.misses
    second = udfs.lstm_sequence(X, W2, col(B))
    assert udfs.CACHE.misses == misses + 1
    assert second is not first
    np.testing.assert_array_equal(second, xl.run(xl.LSTMParams(W2, B), X).table())


def test_editing_the_argument_in_place_recomputes() -> None:
    """The key holds the argument's bytes, not a reference: mutating the same array is a new key."""
    x = X.copy()
    udfs.lstm_sequence(x, W, col(B))
    x[2, 0] = 4.0
    out = udfs.lstm_sequence(x, W, col(B))
    np.testing.assert_array_equal(out, xl.run(PARAMS, x).table())


def test_same_numbers_in_another_shape_are_another_key() -> None:
    """A 1×T row and a T×1 column hold the same bytes but are cached separately."""
    udfs.lstm_sequence(X, W, col(B))
    udfs.lstm_sequence(X.T, W, col(B))
    assert (udfs.CACHE.hits, udfs.CACHE.misses, len(udfs.CACHE)) == (0, 2, 2)
    assert udfs._fingerprint(np.zeros((2, 3))) != udfs._fingerprint(np.zeros((3, 2)))


def test_refusals_are_cached_too() -> None:
    """A bad sheet recalculated unchanged returns the same line from the cache."""
    first = udfs.lstm_step(X[:1], None, None, W[:, :4], col(B))
    second = udfs.lstm_step(X[:1], None, None, W[:, :4], col(B))
    assert second == first and udfs.CACHE.hits == 1


def _entry(k: int, n: int = 100) -> tuple[tuple, np.ndarray]:
    """A cache key built like _call's (one n-float argument) and an n-float result."""
    arg = np.full(n, float(k))
    return ("F", udfs._fingerprint(arg)), np.full(n, -float(k))


def test_cache_evicts_least_recently_used_beyond_max_entries() -> None:
    """At most max_entries results stay; a get() makes an entry recent again."""
    cache = ResultCache(max_entries=3, max_bytes=1 << 20)
    for k in range(3):
        cache.put(*_entry(k))
    assert cache.get(_entry(0)[0]) is not None  # 0 is now the most recent
    cache.put(*_entry(3))
    assert len(cache) == 3
    assert cache.get(_entry(1)[0]) is None  # the least recently used went
    assert all(cache.get(_entry(k)[0]) is not None for k in (0, 2, 3))


def test_cache_stays_within_its_byte_bound() -> None:
    """Results plus keys' argument bytes never exceed max_bytes, however many are put."""
    size = 2 * 100 * 8  # an 800-byte result and an 800-byte argument per entry
    cache = ResultCache(max_entries=1000, max_bytes=5 * size + size // 2)
    for k in range(50):
        cache.put(*_entry(k))
        assert len(cache) * size <= cache.max_bytes
    assert len(cache) == 5
    assert [cache.get(_entry(k)[0]) is not None for k in range(44, 50)] == [False] + [True] * 5


def test_cache_refuses_a_result_larger_than_its_bound() -> None:
    """One entry bigger than max_bytes is not stored (and evicts nothing)."""
    cache = ResultCache(max_entries=10, max_bytes=4000)
    cache.put(*_entry(1))
    cache.put(*_entry(2, n=1000))
    assert len(cache) == 1 and cache.get(_entry(2, n=1000)[0]) is None
