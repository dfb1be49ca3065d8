"""The NumPy LSTM: the seed's six equations, one step at a time or over a sequence.

    z_t = W @ [h_{t-1}, x_t] + b            (4H,)  blocks i, f, g, o
    i_t = σ(z_i)    f_t = σ(z_f)    g_t = tanh(z_g)    o_t = σ(z_o)
    C_t = f_t * C_{t-1} + i_t * g_t
    h_t = o_t * tanh(C_t)

``step`` is the reference: the equations as written. ``run`` computes the same
numbers fast: the input part of z for a chunk of steps as one matrix product
(never all T·B·4H at once), one fused weight for the recurrent part, gates packed
as [i, f, o | g] so a single call covers all sigmoids, preallocated buffers, and
batch tiles. σ's pre-activations are clipped to ±clip_for(dtype): 80 in float64,
30 in float32, where σ is already 1 to the dtype's precision or below 1e-13 (so
that σ times a small tanh(C) cannot fall into float32's slow subnormal range); the
clip runs only for chunks whose pre-activations could reach it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, NamedTuple

import numpy as np

from ..core.checks import as_float_array, check_finite, check_whole, numbers, resolve_dtype, shape_str
from ..core.errors import LSTMError
from .params import LSTMParams

__all__ = ["CLIP", "CLIP_F32", "RunResult", "Step", "clip_for", "run", "sigmoid", "step"]

CLIP = 80.0  # |pre-activation| bound for σ in float64: σ(80) is 1, σ(-80) ≈ 1.8e-35
CLIP_F32 = 30.0  # in float32: σ(30) is 1 and σ(-30) ≈ 9.4e-14, far above float32's subnormals (1.2e-38)
CHUNK_BYTES = 8 << 20  # working memory of run() beyond its outputs (input projections, buffers)
BATCH_TILE = 1024  # series per tile: the working set of a step stays in cache

Outputs = Literal["all", "h", "last"]


# ---- the equations, as written ------------------------------------------------
def clip_for(dtype: np.dtype) -> float:
    """The bound on σ's pre-activations for a dtype (see the module docstring)."""
    return CLIP_F32 if dtype == np.float32 else CLIP


def sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1 / (1 + e^(-z)), with z clipped to ±clip_for(z.dtype) so e^(-z) stays a normal float."""
    if not (isinstance(z, np.ndarray) and z.dtype.kind == "f"):  # text, None, ragged lists: one line
        z = as_float_array("z", z, np.dtype(np.float64))
    bound = clip_for(z.dtype)
    return 1.0 / (1.0 + np.exp(-np.clip(z, -bound, bound)))


class Step(NamedTuple):
    """The six quantities of one step, each (H,) or (B, H)."""

    i: np.ndarray  # input gate
    f: np.ndarray  # forget gate
    g: np.ndarray  # candidate memory
    c: np.ndarray  # cell state C_t
    o: np.ndarray  # output gate
    h: np.ndarray  # hidden state

    def row(self) -> np.ndarray:
        """i | f | g | C | o | h side by side: (6H,) or (B, 6H), the sheet's row layout."""
        return np.concatenate(self, axis=-1)


def _state(name: str, value: Any, batch_shape: tuple[int, ...], H: int, dt: np.dtype) -> np.ndarray:
    """h_prev / c_prev: None means zeros; else (H,) or (B, H) matching x_t."""
    if value is None:
        return np.zeros(batch_shape + (H,), dt)
    s = check_finite(name, as_float_array(name, value, dt))
    if s.ndim == 2 and s.shape[0] == 1 and not batch_shape:
        s = s.reshape(-1)  # a 1×H row for one series
    if s.ndim == 2 and s.shape[1] == 1 and not batch_shape and s.shape[0] == H:
        s = s.reshape(-1)  # an H×1 column for one series
    if s.shape not in ((H,), batch_shape + (H,)):
        want = numbers(H) if not batch_shape else f"{numbers(H)} or {shape_str(batch_shape + (H,))}"
        raise LSTMError(f"{name} must be {want} (H={H}), got {shape_str(s.shape)}")
    return s


@lru_cache(maxsize=32)
def _gains(params: LSTMParams) -> tuple[tuple[float, float], ...]:
    """Per layer (max row sum of |W|, max |b|): bounds |z| given max |[h, x]|."""
    with np.errstate(over="ignore", invalid="ignore"):  # weights near the float limit: inf, refused by the caller
        return tuple((float(np.abs(W).sum(axis=1).max()), float(np.abs(b).max())) for W, b in params.layers)


def step(params: LSTMParams, x_t: Any, h_prev: Any = None, c_prev: Any = None, *, layer: int = 0) -> Step:
    """One time step of one layer: returns (i, f, g, C, o, h).

    x_t is (D,) for one series or (B, D) for a batch; h_prev and c_prev are (H,)
    or (B, H), and None means zeros (the first step).
    """
    if not isinstance(params, LSTMParams):
        raise LSTMError(f"params must be LSTMParams, got {type(params).__name__}")
    W, b = params.layer_weights(layer)  # (4H, H+D), (4H,)
    H, dt = params.hidden_size, params.dtype
    D = W.shape[1] - H
    x = check_finite("x_t", as_float_array("x_t", x_t, dt))
    if x.ndim == 0 or (x.ndim == 2 and x.shape[1] == 1 and D > 1 and x.shape[0] == D):
        x = x.reshape(-1)  # a single number, or a D×1 column for one series
    if x.ndim not in (1, 2) or x.shape[-1] != D:
        raise LSTMError(f"x_t must be {numbers(D)} (D={D}) or a B×{D} batch, got {shape_str(x.shape)}")
    batch_shape = x.shape[:-1]  # () or (B,)
    h = _state("h_prev", h_prev, batch_shape, H, dt)  # (..., H)
    c = _state("c_prev", c_prev, batch_shape, H, dt)  # (..., H)
    h = np.broadcast_to(h, batch_shape + (H,))
    c = np.broadcast_to(c, batch_shape + (H,))

    hx = np.concatenate([h, x], axis=-1)  # [h_{t-1}, x_t]   (..., H+D)
    # As in run(): refuse inputs whose pre-activations could overflow (inf - inf gives
    # wrong gates, not an error), with the same bound |z| ≤ max|hx|·max_row Σ|W| + max|b|.
    hx_max = float(np.abs(hx).max()) if hx.size else 0.0
    w_gain, b_max = _gains(params)[layer]
    if not hx_max * w_gain + b_max < np.finfo(dt).max / 16:
        raise LSTMError(
            f"x_t and h_prev have values up to {hx_max:.3g}: with these weights the gate pre-activations "
            f"would overflow {dt.name}; rescale the inputs"
        )
    z = hx @ W.T + b  # (..., 4H)
    z_i, z_f, z_g, z_o = np.split(z, 4, axis=-1)
    i = sigmoid(z_i)
    f = sigmoid(z_f)
    g = np.tanh(z_g)
    c_t = f * c + i * g
    o = sigmoid(z_o)
    h_t = o * np.tanh(c_t)
    return Step(i, f, g, c_t, o, h_t)


# ---- the fast path --------------------------------------------------------------
# Inside run() everything is transposed: a batch of states is (H, B), pre-activations
# (4H, B), so each gate block is one contiguous slab and every NumPy call streams
# through memory. Gates are packed [i, f, o | g] with the σ rows negated, so exp() of
# the first 3H rows is e^(-z), and we divide by 1 + e^(-z) instead of multiplying by σ.
@dataclass(frozen=True)
class _Packed:
    """One layer's weights rearranged for the loop."""

    Wx: np.ndarray  # (4H, D_l)  packed order i, f, o, g; σ rows negated
    Wh: np.ndarray  # (4H, H)
    b: np.ndarray  # (4H, 1)
    h_gain: float  # max over σ rows of Σ_k |Wh[j, k]|: bounds |W_h h| when |h| ≤ 1


def _pack(W: np.ndarray, b: np.ndarray, H: int) -> _Packed:
    order = np.r_[0:H, H : 2 * H, 3 * H : 4 * H, 2 * H : 3 * H]  # i, f, o, g
    sign = np.r_[-np.ones(3 * H), np.ones(H)].astype(W.dtype)  # negate σ rows
    Wp = W[order] * sign[:, None]  # (4H, H+D)
    Wh = np.ascontiguousarray(Wp[:, :H])
    with np.errstate(over="ignore"):  # inf for weights near the float limit; _check_range refuses those
        h_gain = float(np.abs(Wh[: 3 * H]).sum(axis=1).max())
    return _Packed(np.ascontiguousarray(Wp[:, H:]), Wh, (b[order] * sign)[:, None], h_gain)


@lru_cache(maxsize=32)
def _packed_layers(params: LSTMParams) -> tuple[_Packed, ...]:
    H = params.hidden_size
    return tuple(_pack(W, b, H) for W, b in params.layers)


def _recur(
    zx: np.ndarray,  # (n, 4H, Bt) packed input part of z, bias included
    Wh: np.ndarray,  # (4H, H)
    h: np.ndarray,  # (H, Bt) state in, updated in place
    c: np.ndarray,  # (H, Bt) state in, updated in place
    z: np.ndarray,  # (4H, Bt) work buffer
    tmp: np.ndarray,  # (H, Bt) work buffer
    clip: float | None,  # clip σ's pre-activations to ±clip, or None when they cannot reach it
    rec_z: np.ndarray | None,  # (n, 4H, Bt) gates i, f, o, g per step, or None
    rec_c: np.ndarray | None,  # (n, H, Bt) C per step, or None
    rec_h: np.ndarray | None,  # (n, H, Bt) h per step, or None
) -> None:
    """The recurrence over n steps; every call writes into a preallocated buffer.

    For one series the caller passes 1-D views (Bt dropped), which makes each
    NumPy call cheaper; the code is the same either way.
    """
    H = c.shape[0]
    e = z[: 3 * H]  # 1 + e^(-z) = 1/σ(z) for i, f, o
    e_i, e_f, e_o, g = z[:H], z[H : 2 * H], z[2 * H : 3 * H], z[3 * H :]
    dot, add, div, exp, tanh = np.dot, np.add, np.divide, np.exp, np.tanh
    h_t, c_t, c_prev = h, c, c  # this step's h and C, and the previous C: the records' rows when kept
    for t in range(zx.shape[0]):
        dot(Wh, h_t, z)  # z = W_h h_{t-1}        (4H, Bt)
        add(z, zx[t], z)  #   + W_x x_t + b
        if clip is not None:
            np.maximum(e, -clip, out=e)
            np.minimum(e, clip, out=e)
        exp(e, e)
        add(e, 1.0, e)  # 1/σ(z) for i, f, o
        g_t = g if rec_z is None else rec_z[t, 3 * H :]
        tanh(g, g_t)  # g = tanh(z_g)
        if rec_c is not None:
            c_t = rec_c[t]
        div(c_prev, e_f, c_t)  # f C_{t-1}
        div(g_t, e_i, tmp)  # i g
        add(c_t, tmp, c_t)  # C_t = f C_{t-1} + i g
        if rec_h is not None:
            h_t = rec_h[t]
        tanh(c_t, h_t)
        div(h_t, e_o, h_t)  # h_t = o tanh(C_t)
        if rec_z is not None:
            div(1.0, e, rec_z[t, : 3 * H])  # σ(z) for i, f, o
        c_prev = c_t
    if h_t is not h:  # the states were kept in the records' rows: hand the last back
        h[...] = h_t
    if c_t is not c:
        c[...] = c_t


@dataclass(frozen=True)
class RunResult:
    """What ``run`` computed. Per-step arrays are (T, H) for one series, (T, B, H) for a batch.

    h_n, c_n   (L, [B,] H)  the last h and C of every layer
    y_last     ([B,] O)     the head applied to the top layer's last h (None without a head)
    i f g c o  (T, [B,] H)  the top layer's gates and C per step   (outputs="all")
    h          (T, [B,] H)  the top layer's h per step              (outputs="all" or "h")
    y          (T, [B,] O)  the head at every step                  (outputs="all" or "h")
    """

    h_n: np.ndarray
    c_n: np.ndarray
    y_last: np.ndarray | None = None
    i: np.ndarray | None = None
    f: np.ndarray | None = None
    g: np.ndarray | None = None
    c: np.ndarray | None = None
    o: np.ndarray | None = None
    h: np.ndarray | None = None
    y: np.ndarray | None = None

    def table(self) -> np.ndarray:
        """i | f | g | C | o | h per step: (T, 6H) or (T, B, 6H), the sheet's layout."""
        if self.i is None:
            raise LSTMError('table() needs every gate: call run(..., outputs="all")')
        return np.concatenate([self.i, self.f, self.g, self.c, self.o, self.h], axis=-1)  # type: ignore[list-item]


def _sequence(X: Any, D: int, dt: np.dtype) -> tuple[np.ndarray, bool]:
    """X as (T, B, D), checked finite; the flag says whether the caller gave one series."""
    x = as_float_array("X", X, dt)
    _check_finite_fast("X", x)  # in the caller's shape, so positions read as given
    single = x.ndim <= 2
    if x.ndim == 1:
        x = x.reshape(-1, 1) if D == 1 else x.reshape(1, -1)
    if x.ndim == 2:
        x = x[:, None, :]
    if x.ndim != 3 or x.shape[2] != D or x.shape[0] == 0 or x.shape[1] == 0:
        raise LSTMError(
            f"X must be T×D (one series) or T×B×D (a batch) with D={D} and T, B ≥ 1, got {shape_str(np.shape(X))}"
        )
    return x, single


def _initial_state(name: str, value: Any, L: int, B: int, H: int, dt: np.dtype) -> np.ndarray:
    """h0 / c0 as (L, B, H); accepts (H,), (B, H), (L, H) or (L, B, H)."""
    if value is None:
        return np.zeros((L, B, H), dt)
    s = check_finite(name, as_float_array(name, value, dt))
    shapes = {(H,): (1, 1, H), (B, H): (1, B, H), (L, 1, H): (L, 1, H), (L, B, H): (L, B, H)}
    if L > 1 and B == 1 and s.shape == (L, H):
        shapes[(L, H)] = (L, 1, H)
    if s.shape not in shapes:
        raise LSTMError(
            f"{name} must be {numbers(H)}, B×H = {B}×{H} or L×B×H = {L}×{B}×{H} (L={L} layers), got {shape_str(s.shape)}"
        )
    return np.array(np.broadcast_to(s.reshape(shapes[s.shape]), (L, B, H)), dtype=dt)


def _check_finite_fast(name: str, x: np.ndarray) -> None:
    """check_finite without a temporary as large as x, unless something is wrong."""
    if x.size and not np.isfinite(float(x.max()) - float(x.min())):
        check_finite(name, x)


def _check_range(X: np.ndarray, h0: np.ndarray, layers: tuple[_Packed, ...], dt: np.dtype) -> None:
    """Refuse inputs (or weights) so large that a gate pre-activation of some layer would overflow."""
    x_max = max(float(X.max()), -float(X.min()))
    h_max = float(np.abs(h0).max())
    for k, layer in enumerate(layers):
        inp = x_max if k == 0 else 1.0  # a layer above the first reads h, and |h| < 1
        with np.errstate(over="ignore", invalid="ignore"):
            bound = inp * float(np.abs(layer.Wx).sum(axis=1).max()) + float(np.abs(layer.b).max())
            bound += float(np.abs(layer.Wh).sum(axis=1).max()) * max(1.0, h_max)
        if not bound < np.finfo(dt).max / 16:
            what = f"h0 has values up to {h_max:.3g}" if h_max > max(1.0, x_max) else f"X has values up to {x_max:.3g}"
            raise LSTMError(
                f"{what}: with these weights the gate pre-activations of layer {k + 1} would overflow "
                f"{dt.name}; rescale the inputs"
            )


def _tiles(n: int, size: int) -> list[tuple[int, int]]:
    return [(a, min(a + size, n)) for a in range(0, n, size)]


def run(
    params: LSTMParams,
    X: Any,
    h0: Any = None,
    c0: Any = None,
    *,
    outputs: Outputs = "all",
    dtype: Any = None,
    chunk_bytes: int = CHUNK_BYTES,
    batch_tile: int = BATCH_TILE,
) -> RunResult:
    """Run the LSTM over a sequence X of shape (T, D), or a batch (T, B, D).

    outputs="all" keeps every gate and state of the top layer per step (what the
    sheet shows), "h" keeps h per step, "last" keeps only the final states and the
    head's last output. h0 and c0 default to zeros. ``dtype`` (float64 or
    float32) defaults to the params' dtype. ``chunk_bytes`` bounds the memory
    used beyond the outputs (at least one step's worth is always used);
    ``batch_tile`` is how many series go through a step together.
    """
    if not isinstance(params, LSTMParams):
        raise LSTMError(f"params must be LSTMParams, got {type(params).__name__}")
    if outputs not in ("all", "h", "last"):
        raise LSTMError(f'outputs must be "all", "h" or "last", got {outputs!r}')
    check_whole("chunk_bytes", chunk_bytes, 1)
    check_whole("batch_tile", batch_tile, 1)
    dt = params.dtype if dtype is None else resolve_dtype(dtype)
    bound = clip_for(dt)
    if dt != params.dtype:
        params = params.astype(dt)
    L, H, D = params.num_layers, params.hidden_size, params.input_size
    x, single = _sequence(X, D, dt)  # (T, B, D)
    T, B, _ = x.shape
    h_state = _initial_state("h0", h0, L, B, H, dt)  # (L, B, H), updated in place
    c_state = _initial_state("c0", c0, L, B, H, dt)  # (L, B, H), updated in place
    layers = _packed_layers(params)
    _check_range(x, h_state, layers, dt)

    keep_all, keep_h = outputs == "all", outputs in ("all", "h")
    # Records are kept transposed, (T, K, B), and handed back as (T, B, K) views.
    rec_z = np.empty((T, 4 * H, B), dt) if keep_all else None  # gates i, f, o, g
    rec_c = np.empty((T, H, B), dt) if keep_all else None
    rec_h = np.empty((T, H, B), dt) if keep_h else None

    bt = min(B, batch_tile)
    # chunk_bytes bounds the working memory beyond the outputs: a tile's state and
    # gate buffers, plus as many steps of input projections as fit beside them (and
    # the contiguous copy of the inputs that matmul makes of a strided chunk).
    fixed = bt * (5 * H + 2 * L * H) * dt.itemsize
    per_step = bt * (4 * H + (H if L > 1 else 0) + D) * dt.itemsize
    n_max = max(1, min(T, (chunk_bytes - fixed) // per_step))  # steps per chunk
    # Work buffers, allocated once; a narrower last tile takes a contiguous prefix.
    flat = {
        name: np.empty(size * bt, dt)
        for name, size in (
            ("zx", n_max * 4 * H),
            ("below", n_max * H if L > 1 else 0),
            ("z", 4 * H),
            ("tmp", H),
            ("hs", L * H),
            ("cs", L * H),
        )
    }

    def buffer(name: str, *shape: int) -> np.ndarray:
        return flat[name][: int(np.prod(shape))].reshape(shape)

    for b0, b1 in _tiles(B, bt):
        nb = b1 - b0
        zx, z, tmp = buffer("zx", n_max, 4 * H, nb), buffer("z", 4 * H, nb), buffer("tmp", H, nb)
        hs, cs = buffer("hs", L, H, nb), buffer("cs", L, H, nb)  # this tile's states
        hs[...] = h_state[:, b0:b1].transpose(0, 2, 1)
        cs[...] = c_state[:, b0:b1].transpose(0, 2, 1)
        # Largest |h| each layer can meet at a chunk's start: the given h0, later 1.
        h_scale = np.maximum(1.0, np.abs(hs).max(axis=(1, 2)))  # (L,)
        for t0, t1 in _tiles(T, n_max):
            n = t1 - t0
            inp = x[t0:t1, b0:b1].transpose(0, 2, 1)  # (n, D, nb)
            for k, layer in enumerate(layers):
                zc = zx[:n]  # (n, 4H, nb)
                np.matmul(layer.Wx, inp, out=zc)
                zc += layer.b
                sig = zc[:, : 3 * H]
                reach = max(float(sig.max()), -float(sig.min())) + layer.h_gain * float(h_scale[k])
                clip = bound if reach > bound else None
                if k == L - 1:
                    recs = [None if r is None else r[t0:t1, :, b0:b1] for r in (rec_z, rec_c, rec_h)]
                else:
                    recs = [None, None, buffer("below", n, H, nb)]
                state = [zc, hs[k], cs[k], z, tmp]
                if nb == 1:  # one series: 1-D views make every NumPy call cheaper
                    state = [a[..., 0] for a in state]
                    recs = [None if r is None else r[..., 0] for r in recs]
                zc_k, h_k, c_k, z_k, tmp_k = state
                _recur(zc_k, layer.Wh, h_k, c_k, z_k, tmp_k, clip, *recs)
                if k < L - 1:
                    inp = buffer("below", n, H, nb)  # the next layer reads this layer's h
            h_scale[:] = 1.0
        h_state[:, b0:b1] = hs.transpose(0, 2, 1)
        c_state[:, b0:b1] = cs.transpose(0, 2, 1)

    return _result(params, single, h_state, c_state, rec_z, rec_c, rec_h)


def _result(params, single, h_state, c_state, rec_z, rec_c, rec_h) -> RunResult:  # type: ignore[no-untyped-def]
    """Shape the records for the caller: drop the batch axis for one series."""
    H = params.hidden_size
    squeeze = (lambda a: a[:, 0]) if single else (lambda a: a)
    h_n, c_n = squeeze(h_state), squeeze(c_state)  # (L, [B,] H)

    def head(h: np.ndarray) -> np.ndarray | None:
        if params.W_y is None:
            return None
        with np.errstate(over="ignore", invalid="ignore"):
            y = h @ params.W_y.T + params.b_y
        if not np.isfinite(y).all():
            raise LSTMError(f"the head's output W_y h + b_y overflows {h.dtype.name}: W_y and b_y are too large")
        return y

    fields: dict[str, Any] = {"h_n": h_n, "c_n": c_n, "y_last": head(h_n[-1])}
    if rec_h is not None:
        fields["h"] = squeeze(rec_h.transpose(0, 2, 1))  # (T, [B,] H)
        fields["y"] = head(fields["h"])
    if rec_z is not None:
        gz, cz = squeeze(rec_z.transpose(0, 2, 1)), squeeze(rec_c.transpose(0, 2, 1))
        fields.update(i=gz[..., :H], f=gz[..., H : 2 * H], o=gz[..., 2 * H : 3 * H], g=gz[..., 3 * H :], c=cz)
    return RunResult(**fields)
