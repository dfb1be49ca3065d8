"""The engine's equations: one step by hand, step against run, and invariants.

    z = W @ [h_{t-1}, x_t] + b      W (4H, H+D), row blocks i, f, g, o
    i = σ(z_i)  f = σ(z_f)  g = tanh(z_g)  o = σ(z_o)
    C_t = f*C_{t-1} + i*g           h_t = o*tanh(C_t)

Hand examples pick pre-activations that are logarithms, so every result is an
exact fraction:  σ(ln k) = k/(k+1),  tanh(ln k) = (k²-1)/(k²+1).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import xl_lstm as xl

LN2, LN3 = math.log(2.0), math.log(3.0)


@contextmanager
def strict() -> Iterator[None]:
    """No warning and no floating-point event (overflow, underflow, invalid, /0) may happen inside."""
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        yield


def _one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    msg = str(exc.value)
    assert "\n" not in msg and msg.strip() == msg and msg
    return msg


# ---- one step by hand --------------------------------------------------------------
def test_one_step_by_hand_d1_h1() -> None:
    """Every one of the six equations, with both columns of W and a nonzero h_prev and C_prev.

    h_prev = 1/2, x = 2.  Columns of W: [h_prev | x].
      z_i = ln3·(1/2)   + (ln3/4)·2 + 0     = ln 3   → i = σ(ln 3)  = 3/4
      z_f = 2ln2·(1/2)  + (ln2/2)·2 - ln2   = ln 2   → f = σ(ln 2)  = 2/3
      z_g = -2ln2·(1/2) + ln2·2     + 0     = ln 2   → g = tanh(ln 2) = (4-1)/(4+1) = 3/5
      z_o = 2ln3·(1/2)  - ln3·2     + 0     = -ln 3  → o = σ(-ln 3) = 1/4
    C_prev = (3/2)(ln2 - 9/20), chosen so that
      C = f·C_prev + i·g = (2/3)(3/2)(ln2 - 9/20) + (3/4)(3/5) = ln2 - 9/20 + 9/20 = ln 2
      tanh(C) = (e^{2 ln2} - 1)/(e^{2 ln2} + 1) = (4-1)/(4+1) = 3/5
      h = o·tanh(C) = (1/4)(3/5) = 3/20
    """
    W = np.array(
        [
            [LN3, LN3 / 4],  # i
            [2 * LN2, LN2 / 2],  # f
            [-2 * LN2, LN2],  # g
            [2 * LN3, -LN3],  # o
        ]
    )  # (4H, H+D) = (4, 2)
    b = np.array([0.0, -LN2, 0.0, 0.0])  # (4,)
    c_prev = 1.5 * (LN2 - 9 / 20)
    s = xl.step(xl.LSTMParams(W, b), [2.0], h_prev=[0.5], c_prev=[c_prev])

    want = {"i": 3 / 4, "f": 2 / 3, "g": 3 / 5, "c": LN2, "o": 1 / 4, "h": 3 / 20}
    for name, value in want.items():
        got = getattr(s, name)
        assert got.shape == (1,), name
        assert abs(got[0] - value) <= 1e-15, (name, got[0], value)
    # The sheet's row: i | f | g | C | o | h.
    np.testing.assert_allclose(s.row(), [3 / 4, 2 / 3, 3 / 5, LN2, 1 / 4, 3 / 20], rtol=0, atol=1e-15)


def test_hand_step_needs_both_columns_in_order() -> None:
    """Swapping h_prev and x (or the columns) changes the answer: the column order is real."""
    W = np.array([[LN3, LN3 / 4], [2 * LN2, LN2 / 2], [-2 * LN2, LN2], [2 * LN3, -LN3]])
    b = np.array([0.0, -LN2, 0.0, 0.0])
    p = xl.LSTMParams(W, b)
    right = xl.step(p, [2.0], h_prev=[0.5])
    swapped = xl.step(p, [0.5], h_prev=[2.0])
    assert abs(right.i[0] - 3 / 4) < 1e-15
    assert abs(swapped.i[0] - 3 / 4) > 0.1  # z_i = 2ln3 + ln3/8 instead of ln 3


def test_gate_block_order_is_i_f_g_o() -> None:
    """H=2, W=0: only the forget block's bias is large, so f = 1, g = 0 and C is held.

    b blocks (each H=2 numbers):
      i: ln 3  → i = 3/4
      f: 40    → f = 1/(1+e^-40) = 1 to double precision (e^-40 ≈ 4e-18 < eps/2)
      g: 0     → g = tanh 0 = 0
      o: -ln 3 → o = 1/4
    C = 1·C_prev + (3/4)·0 = C_prev, exactly.
    With C_prev = [ln 2, -ln 3]: tanh(C) = [3/5, (1/9-1)/(1/9+1) = -4/5], h = [3/20, -1/5].
    """
    H, D = 2, 1
    b = np.repeat([LN3, 40.0, 0.0, -LN3], H)  # (4H,) = (8,)
    p = xl.LSTMParams(np.zeros((4 * H, H + D)), b)
    c_prev = np.array([LN2, -LN3])
    s = xl.step(p, [7.0], h_prev=[0.3, -0.2], c_prev=c_prev)
    np.testing.assert_allclose(s.i, [3 / 4, 3 / 4], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(s.f, [1.0, 1.0])
    np.testing.assert_array_equal(s.g, [0.0, 0.0])
    np.testing.assert_array_equal(s.c, c_prev)  # memory held exactly
    np.testing.assert_allclose(s.o, [1 / 4, 1 / 4], rtol=0, atol=1e-15)
    np.testing.assert_allclose(s.h, [3 / 20, -1 / 5], rtol=0, atol=1e-15)
    # The row layout with H=2: i i | f f | g g | C C | o o | h h.
    assert s.row().shape == (6 * H,)
    np.testing.assert_array_equal(s.row()[6:8], c_prev)

    # The same cell holds C for 50 steps whatever the inputs, in run() too.
    r = xl.run(p, np.linspace(-5, 5, 50)[:, None], h0=[0.3, -0.2], c0=c_prev)  # X (T, D) = (50, 1)
    np.testing.assert_array_equal(r.c, np.tile(c_prev, (50, 1)))
    np.testing.assert_array_equal(r.f, np.ones((50, H)))


@pytest.mark.parametrize("block", range(4))
def test_each_bias_block_drives_its_own_gate(block: int) -> None:
    """A large bias in block k saturates gate k only (blocks i, f, g, o in that order)."""
    H = 2
    b = np.zeros(4 * H)
    b[block * H : (block + 1) * H] = 40.0
    s = xl.step(xl.LSTMParams(np.zeros((4 * H, H + 1)), b), [0.0])
    gates = [s.i, s.f, s.g, s.o]
    rest = [0.5, 0.5, 0.0, 0.5]  # σ(0), σ(0), tanh(0), σ(0)
    for k, gate in enumerate(gates):
        np.testing.assert_array_equal(gate, np.full(H, 1.0 if k == block else rest[k]))


# ---- step against run ----------------------------------------------------------------
def _random_params(D: int, H: int, seed: int, scale: float = 1.0, layers: int = 1, head: int | None = None):
    rng = np.random.default_rng(seed)
    pairs = [
        (scale * rng.standard_normal((4 * H, H + (D if k == 0 else H))), rng.standard_normal(4 * H))
        for k in range(layers)
    ]
    W_y = rng.standard_normal((head, H)) if head else None
    b_y = rng.standard_normal(head) if head else None
    return xl.stack(pairs, W_y, b_y)


def test_step_on_a_batch_equals_step_row_by_row() -> None:
    """A (B, D) batch is B independent series: each row equals its own single step."""
    D, H, B = 3, 4, 5
    p = _random_params(D, H, seed=1)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((B, D))  # (B, D)
    h = rng.uniform(-1, 1, (B, H))  # (B, H)
    c = rng.standard_normal((B, H))  # (B, H)
    batch = xl.step(p, x, h, c)
    for name in xl.Step._fields:
        assert getattr(batch, name).shape == (B, H)
    assert batch.row().shape == (B, 6 * H)
    for r in range(B):
        one = xl.step(p, x[r], h[r], c[r])
        np.testing.assert_allclose(batch.row()[r], one.row(), rtol=0, atol=1e-15)


def _iterate_step(p: xl.LSTMParams, X: np.ndarray, h0: np.ndarray, c0: np.ndarray) -> dict[str, np.ndarray]:
    """run() done the slow way: step() per time step and per layer. X (T, [B,] D), h0/c0 (L, [B,] H)."""
    out: dict[str, list[np.ndarray]] = {k: [] for k in xl.Step._fields}
    h, c = list(h0), list(c0)
    for x_t in X:
        inp = x_t
        for k in range(p.num_layers):
            s = xl.step(p, inp, h[k], c[k], layer=k)
            h[k], c[k], inp = s.h, s.c, s.h
        for name in xl.Step._fields:
            out[name].append(getattr(s, name))  # the top layer's
    res = {k: np.stack(v) for k, v in out.items()}
    res["h_n"], res["c_n"] = np.stack(h), np.stack(c)
    return res


@pytest.mark.parametrize(
    "D,H,T,B,layers",
    [(1, 1, 7, None, 1), (3, 4, 25, None, 1), (2, 3, 12, 4, 1), (2, 3, 9, None, 2), (3, 2, 11, 3, 3)],
)
def test_iterating_step_equals_run(D: int, H: int, T: int, B: int | None, layers: int) -> None:
    """run(outputs="all") gives, step for step, the gates and states of step() (float64, 1e-14)."""
    p = _random_params(D, H, seed=D * 100 + H * 10 + T, layers=layers)
    rng = np.random.default_rng(T)
    batch = () if B is None else (B,)
    X = rng.standard_normal((T,) + batch + (D,))  # (T, [B,] D)
    h0 = rng.uniform(-1, 1, (layers,) + batch + (H,))  # (L, [B,] H)
    c0 = rng.standard_normal((layers,) + batch + (H,))
    want = _iterate_step(p, X, h0, c0)
    r = xl.run(p, X, h0, c0, outputs="all")
    for name in xl.Step._fields:
        got = getattr(r, name)
        assert got.shape == (T,) + batch + (H,), name
        np.testing.assert_allclose(got, want[name], rtol=0, atol=1e-14, err_msg=name)
    np.testing.assert_allclose(r.h_n, want["h_n"], rtol=0, atol=1e-14)
    np.testing.assert_allclose(r.c_n, want["c_n"], rtol=0, atol=1e-14)
    np.testing.assert_allclose(r.table(), np.concatenate([want[k] for k in xl.Step._fields], axis=-1), atol=1e-14)


def test_outputs_h_and_last_agree_with_all() -> None:
    """The lighter outputs are the same numbers, not a different computation's."""
    p = _random_params(2, 3, seed=5, layers=2, head=2)
    X = np.random.default_rng(6).standard_normal((20, 4, 2))  # (T, B, D)
    full = xl.run(p, X, outputs="all")
    only_h = xl.run(p, X, outputs="h")
    last = xl.run(p, X, outputs="last")
    np.testing.assert_array_equal(only_h.h, full.h)
    np.testing.assert_array_equal(only_h.y, full.y)
    assert only_h.i is None and only_h.c is None
    assert last.h is None and last.y is None and last.i is None
    for r in (only_h, last):
        np.testing.assert_array_equal(r.h_n, full.h_n)
        np.testing.assert_array_equal(r.c_n, full.c_n)
        np.testing.assert_array_equal(r.y_last, full.y_last)
    # The last step of the records is the final state of the top layer, and y = W_y h + b_y.
    np.testing.assert_array_equal(full.h[-1], full.h_n[-1])
    np.testing.assert_array_equal(full.c[-1], full.c_n[-1])
    np.testing.assert_allclose(full.y, full.h @ p.W_y.T + p.b_y, atol=1e-14)


def test_float32_run_agrees_with_float64() -> None:
    """float32 is the same LSTM to about 1e-5, and really computed in float32."""
    p = _random_params(3, 5, seed=9, layers=2, head=1)
    X = np.random.default_rng(10).standard_normal((40, 3, 3))  # (T, B, D)
    r64 = xl.run(p, X)
    r32 = xl.run(p, X, dtype="float32")
    r32b = xl.run(p.astype("float32"), X.astype(np.float32))
    for name in ("i", "f", "g", "c", "o", "h", "y", "h_n", "c_n", "y_last"):
        a64, a32 = getattr(r64, name), getattr(r32, name)
        assert a64.dtype == np.float64 and a32.dtype == np.float32, name
        np.testing.assert_allclose(a32, a64, rtol=0, atol=1e-5, err_msg=name)
        np.testing.assert_array_equal(getattr(r32b, name), a32, err_msg=name)


def test_dtype_argument_is_checked() -> None:
    """Only float64 and float32 are engines; anything else is one clear line."""
    p = _random_params(1, 2, seed=0)
    with pytest.raises(xl.LSTMError) as exc:
        xl.run(p, np.zeros((3, 1)), dtype="int32")
    assert "float64 or float32" in _one_line(exc)


# ---- properties ------------------------------------------------------------------------
def _grid(scale: float):
    """Numbers in [-scale, scale] on a 1/1000 grid: exact zeros, no subnormals, shrink nicely."""
    return st.integers(-1000, 1000).map(lambda k: k * scale / 1000)


@st.composite
def lstm_cases(draw, single_step: bool = False):
    """Random sizes, weights up to ±50 (so gates saturate), inputs, and initial states."""
    D, H = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    T = 1 if single_step else draw(st.integers(1, 30))
    B = draw(st.integers(1, 5))
    scale = draw(st.one_of(st.just(0.0), st.floats(0.01, 50.0)))
    W = draw(hnp.arrays(np.float64, (4 * H, H + D), elements=_grid(scale)))  # (4H, H+D)
    b = draw(hnp.arrays(np.float64, (4 * H,), elements=_grid(scale)))  # (4H,)
    X = draw(hnp.arrays(np.float64, (T, B, D), elements=_grid(10.0)))  # (T, B, D)
    h0 = draw(hnp.arrays(np.float64, (B, H), elements=_grid(1.0)))  # (B, H)
    c0 = draw(hnp.arrays(np.float64, (B, H), elements=_grid(5.0)))  # (B, H)
    return xl.LSTMParams(W, b), X, h0, c0


def _z(p: xl.LSTMParams, h_prev: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Pre-activations computed here, block by block: (..., 4H)."""
    H = p.hidden_size
    return h_prev @ p.W[:, :H].T + x @ p.W[:, H:].T + p.b


def _check_gates(i, f, g, c, o, h, z, c_bound) -> None:  # type: ignore[no-untyped-def]
    H = i.shape[-1]
    z_i, z_f, z_o = z[..., :H], z[..., H : 2 * H], z[..., 3 * H :]
    for name, gate, zg in (("i", i, z_i), ("f", f, z_f), ("o", o, z_o)):
        assert np.all(gate > 0) and np.all(gate <= 1), name
        assert np.all(gate[np.abs(zg) < 30] < 1), name  # σ(30) = 1 - 9e-14 is still below 1
    assert np.all(np.abs(g) <= 1) and np.all(np.abs(h) <= 1)
    assert np.all(np.abs(c) <= c_bound)
    for a in (i, f, g, c, o, h):
        assert not np.isnan(a).any()
        assert np.isfinite(a).all()


@given(lstm_cases(single_step=True))
def test_step_properties(case) -> None:  # type: ignore[no-untyped-def]
    """step(): shapes, 0 < σ ≤ 1 (< 1 where |z| < 30), |g|, |h| ≤ 1, |C| ≤ |C_prev| + 1, no FP events."""
    p, X, h0, c0 = case
    x = X[0]  # (B, D)
    with strict():
        s = xl.step(p, x, h0, c0)
    for a in s:
        assert a.shape == h0.shape and a.dtype == np.float64
    _check_gates(*s, z=_z(p, h0, x), c_bound=np.abs(c0) + 1 + 1e-12)


@given(lstm_cases())
def test_run_properties(case) -> None:  # type: ignore[no-untyped-def]
    """run(): shapes, gate bounds as for step, |C_t| ≤ |C_0| + t, no warning and no FP event."""
    p, X, h0, c0 = case
    T, B, _ = X.shape
    H = p.hidden_size
    single = B == 1
    if single:  # one series: (T, D) in, (T, H) out
        X, h0, c0 = X[:, 0], h0[0], c0[0]
    with strict():
        r = xl.run(p, X, h0, c0, outputs="all")
    per_step = (T, H) if single else (T, B, H)
    for name in xl.Step._fields:
        assert getattr(r, name).shape == per_step, name
    assert r.h_n.shape == r.c_n.shape == (1,) + per_step[1:]
    assert r.table().shape == per_step[:-1] + (6 * H,)
    h_prev = np.concatenate([h0[None], r.h[:-1]])  # h_{t-1} per step  (T, [B,] H)
    t = np.arange(1, T + 1).reshape((T,) + (1,) * (X.ndim - 1))
    _check_gates(r.i, r.f, r.g, r.c, r.o, r.h, z=_z(p, h_prev, X), c_bound=np.abs(c0) + t + 1e-12)


# ---- extreme inputs ----------------------------------------------------------------------
def test_inputs_of_a_million_give_finite_saturated_results() -> None:
    """|x| = 1e6 saturates every gate but overflows nothing."""
    p = _random_params(2, 3, seed=3)
    X = 1e6 * np.sign(np.random.default_rng(4).standard_normal((30, 2, 2)))  # (T, B, D)
    with strict():
        r = xl.run(p, X)
        s = xl.step(p, X[0])
    for a in (*(getattr(r, k) for k in xl.Step._fields), *s):
        assert np.isfinite(a).all()
    assert np.all((r.i > 0) & (r.i <= 1)) and np.all(np.abs(r.h) <= 1)
    np.testing.assert_allclose(r.i[0], s.i, atol=1e-15)


def test_inputs_that_would_overflow_are_refused_by_run() -> None:
    """X = 1e300 with weights of 1e10 would make z overflow: one line that says to rescale."""
    W = np.zeros((4, 3))  # H=1, D=2
    W[:, 1], W[:, 2] = 1e10, -1e10  # true z = 1e310 - 1e310 = 0, but not in floating point
    p = xl.LSTMParams(W, np.zeros(4))
    with pytest.raises(xl.LSTMError) as exc:
        xl.run(p, [[1e300, 1e300]])
    msg = _one_line(exc)
    assert "rescale" in msg and "X" in msg
    # The largest double itself is refused even with ordinary weights.
    with pytest.raises(xl.LSTMError, match="rescale"):
        xl.run(_random_params(1, 2, seed=0), [[0.0], [1.7e308]])


def test_inputs_that_would_overflow_are_refused_by_step() -> None:
    """step() must not hand back numbers computed from an overflowed z (here i = 1 instead of 1/2)."""
    W = np.zeros((4, 3))
    W[:, 1], W[:, 2] = 1e10, -1e10
    p = xl.LSTMParams(W, np.zeros(4))
    with pytest.raises(xl.LSTMError) as exc:
        xl.step(p, [1e300, 1e300])
    assert "rescale" in _one_line(exc)
    with pytest.raises(xl.LSTMError, match="rescale"):
        xl.step(p, [0.0, 0.0], h_prev=[1e308])


def test_large_but_safe_inputs_are_accepted() -> None:
    """1e300 with ordinary weights is no overflow (z = ±5e299): saturated, correct, accepted."""
    W = np.array([[0.0, 0.5], [0.0, -0.5], [0.0, 0.5], [0.0, 0.5]])  # (4, 2): H=1, D=1
    p = xl.LSTMParams(W, np.zeros(4))
    with strict():
        r = xl.run(p, [[1e300]])
        s = xl.step(p, [1e300])
    for a in (s.row(), r.table()[0]):
        # i = 1, f = σ(-80) (the clip), g = 1, C = f·0 + 1·1 = 1, o = 1, h = tanh(1)
        np.testing.assert_array_equal(a, [1.0, 1 / (1 + math.exp(80)), 1.0, 1.0, 1.0, np.tanh(1.0)])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_x_is_refused_naming_its_position(bad: float) -> None:
    """A NaN or ±inf in X is refused at once, named as NumPy and as a spreadsheet reader count it."""
    p = _random_params(1, 2, seed=0)
    X = np.zeros((6, 1))  # (T, D)
    X[3, 0] = bad
    with pytest.raises(xl.LSTMError) as exc:
        xl.run(p, X)
    msg = _one_line(exc)
    assert msg.startswith("X ") and "[3, 0]" in msg and "row 4, column 1" in msg, msg

    Xb = np.zeros((5, 3, 1))  # (T, B, D)
    Xb[2, 1, 0] = bad
    with pytest.raises(xl.LSTMError, match=r"\[2, 1, 0\]"):
        xl.run(p, Xb)

    with pytest.raises(xl.LSTMError) as exc:
        xl.step(_random_params(3, 2, seed=0), [0.0, 1.0, bad])
    assert "x_t" in _one_line(exc) and "[2] (item 3)" in str(exc.value)


@pytest.mark.parametrize("name", ["h0", "c0"])
def test_non_finite_initial_state_is_refused(name: str) -> None:
    p = _random_params(1, 2, seed=0)
    with pytest.raises(xl.LSTMError) as exc:
        xl.run(p, np.zeros((3, 1)), **{name: [0.0, np.nan]})
    assert _one_line(exc).startswith(name) and "[1] (item 2)" in str(exc.value)


# ---- subnormals ----------------------------------------------------------------------------
def _no_subnormals(a: np.ndarray) -> bool:
    nonzero = np.abs(a[a != 0])
    return nonzero.size == 0 or nonzero.min() >= np.finfo(a.dtype).tiny


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_sigmoid_never_makes_subnormals(dtype: str) -> None:
    """σ of very negative numbers stays a normal float (the clip), in both precisions."""
    z = np.array([-1e300 if dtype == "float64" else -1e38, -1e4, -745.0, -104.0, -88.0, -80.0, -50.0], dtype)
    with strict():
        s = xl.sigmoid(z)
    assert s.dtype == np.dtype(dtype)
    assert np.all(s > 0) and _no_subnormals(s)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_saturated_gates_are_not_subnormal(dtype: str) -> None:
    """Huge negative pre-activations (-1e4): i, f, o are tiny but normal floats, in step and run."""
    H, D = 3, 2
    W = np.zeros((4 * H, H + D))
    W[:, H:] = 1.0  # the inputs push z down further
    p = xl.LSTMParams(W, np.full(4 * H, -1e4), dtype=dtype)
    X = np.full((10, 2, D), -50.0)  # (T, B, D)
    s = xl.step(p, X[0])
    r = xl.run(p, X)
    for gates in ((s.i, s.f, s.o), (r.i, r.f, r.o)):
        for a in gates:
            assert a.dtype == np.dtype(dtype)
            assert np.all(a > 0) and _no_subnormals(a)


def test_float32_closed_output_gate_keeps_h_normal() -> None:
    """A closed output gate (b_o = -100) over a small C: h is 0 or a normal float32.

    σ's float32 clip at ±30 keeps o ≥ 9.4e-14, so o·tanh(C) stays normal; with the
    float64 clip of ±80, o ≈ 1.8e-35 would make h subnormal (and run() ~20x slower).
    """
    H, D = 2, 1
    b = np.zeros(4 * H)
    b[3 * H :] = -100.0  # o = σ(-30) after float32's clip
    W = np.zeros((4 * H, H + D))
    W[2 * H : 3 * H, H:] = 1.0  # g = tanh(x): a small C for a small x
    p = xl.LSTMParams(W, b, dtype="float32")
    r = xl.run(p, np.full((3, D), 1e-3))
    assert _no_subnormals(r.h)
