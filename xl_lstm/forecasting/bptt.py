"""The loss of an LSTM with a linear head and its gradient, by backpropagation through time.

The model reads a series one step at a time and its head predicts the next step,
y_t = W_y h_t + b_y ≈ x_{t+1}: exactly what the template's sheets and LSTM_FORECAST
compute, so a trained model drops into a workbook unchanged.

    loss  L = mean over t, b, o of (y_t - x_{t+1})²      ("squared", the default)
          L = mean over t, b, o of |y_t - x_{t+1}|       ("absolute": the median's loss)

Backward pass, per step (σ' = σ(1-σ), tanh' = 1 - tanh²), from the top:
    dy = 2 (y - target) / N           (absolute: sign(y - target) / N)
                                      dW_y += dyᵀ h      db_y += Σ dy
    dh = dy W_y + dh_next
    do = dh · tanh(C)                 dC = dh · o · (1 - tanh²C) + dC_next
    di = dC · g    dg = dC · i        df = dC · C_{t-1}  dC_next = dC · f
    dz = [di·i(1-i), df·f(1-f), dg·(1-g²), do·o(1-o)]
    dW += dzᵀ [h_{t-1}, x_t]          db += Σ dz         dh_next = (dz W)[:, :H]
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..core.checks import as_vector, finite_array
from ..core.errors import LSTMError
from ..lstm.engine import run
from ..lstm.params import LSTMParams

__all__ = ["LOSSES", "Grads", "check_loss", "epoch_grads", "error_terms", "loss_and_grads", "sequence_loss"]

LOSSES = ("squared", "absolute")  # what a training loss may be (the module docstring's L)

LINEAR_BYTES = 64 << 20  # one series' backward pass builds its T step matrices when they fit in this


class Grads(NamedTuple):
    """Gradients of the loss, shaped like the weights."""

    W: np.ndarray  # (4H, H+D)
    b: np.ndarray  # (4H,)
    W_y: np.ndarray  # (O, H)
    b_y: np.ndarray  # (O,)


def _as_batch(name: str, a: Any) -> np.ndarray:
    arr = finite_array(name, a, np.dtype(np.float64))
    if arr.ndim == 2:
        arr = arr[:, None, :]
    if arr.ndim != 3:
        raise LSTMError(f"{name} must be T×D or T×B×D, got shape {arr.shape}")
    return arr


def forward(params: LSTMParams, X: np.ndarray, h0: np.ndarray | None, c0: np.ndarray | None):  # type: ignore[no-untyped-def]
    """The engine's forward pass, plus what the backward pass needs: h_{t-1}, C_{t-1} and y."""
    r = run(params, X, h0, c0, outputs="all")  # gates and states (T, B, H)
    B, H = X.shape[1], params.hidden_size
    h_start = np.zeros((B, H)) if h0 is None else np.broadcast_to(np.reshape(h0, (-1, H)), (B, H))  # H, B×H or 1×B×H
    c_start = np.zeros((B, H)) if c0 is None else np.broadcast_to(np.reshape(c0, (-1, H)), (B, H))
    h: np.ndarray = r.h  # type: ignore[assignment]  # (T, B, H), outputs="all"
    c: np.ndarray = r.c  # type: ignore[assignment]
    h_prev = np.concatenate([h_start[None], h[:-1]])  # (T, B, H)
    c_prev = np.concatenate([c_start[None], c[:-1]])  # (T, B, H)
    y = h @ params.W_y.T + params.b_y  # type: ignore[union-attr]  # (T, B, O)
    return r, h_prev, c_prev, y


def sequence_loss(params: LSTMParams, X: Any, Y: Any) -> float:
    """Mean squared error of the head's outputs y_t against targets Y_t; X (T, [B,] D), Y (T, [B,] O)."""
    if not isinstance(params, LSTMParams) or params.W_y is None:
        raise LSTMError(f"params must be LSTMParams with a head (W_y, b_y), got {type(params).__name__}")
    Xb, Yb = _as_batch("X", X), _as_batch("Y", Y)
    if Yb.shape != Xb.shape[:2] + (params.output_size,):
        raise LSTMError(
            f"Y must be {Xb.shape[0]}×{Xb.shape[1]}×{params.output_size} to match X and the head, got {Yb.shape}"
        )
    _, _, _, y = forward(params, Xb, None, None)
    return float(np.mean((y - Yb) ** 2))


def loss_and_grads(
    params: LSTMParams,
    X: Any,
    Y: Any,
    h0: Any = None,
    c0: Any = None,
    *,
    weight: Any = None,
    loss: str = "squared",
) -> tuple[float, Grads, np.ndarray, np.ndarray]:
    """The loss, its gradients, and the last h and C (for the next chunk of a long series).

    X (T, [B,] D) inputs, Y (T, [B,] O) targets; ``weight`` (T,) (optional) weights each
    step's error, e.g. 0 for steps that only warm the state up. The loss is the weighted
    mean over steps, series and outputs of the squared or the absolute error (``loss``).
    """
    if not isinstance(params, LSTMParams):
        raise LSTMError(f"params must be LSTMParams, got {type(params).__name__}")
    if params.W_y is None or params.num_layers != 1:
        raise LSTMError("training needs a one-layer LSTM with a head (W_y, b_y)")
    Xb, Yb = _as_batch("X", X), _as_batch("Y", Y)
    T, B, _ = Xb.shape
    H, O = params.hidden_size, params.output_size or 0
    if Yb.shape != (T, B, O):
        raise LSTMError(f"Y must be {T}×{B}×{O} to match X and the head, got {Yb.shape}")
    check_loss(loss)
    w = np.ones(T) if weight is None else as_vector("weight", weight, T, np.dtype(np.float64))
    if np.any(w < 0) or not np.any(w > 0):
        raise LSTMError("weight must be one number ≥ 0 per step, at least one of them > 0")
    N = float(w.sum()) * B * O
    r, h_prev, c_prev, y = forward(params, Xb, h0, c0)
    wb = w[:, None, None]  # (T, 1, 1)
    per_value, slope = error_terms(y - Yb, np.array(loss == "absolute"))  # (T, B, O) each
    value, dy = float(np.sum(per_value * wb) / N), slope * wb / N

    i, f, g, c, o, h = r.i, r.f, r.g, r.c, r.o, r.h  # (T, B, H)
    tc = np.tanh(c)
    dW_y = (dy.reshape(T * B, O).T @ h.reshape(T * B, H)).reshape(O, H)
    db_y = dy.sum(axis=(0, 1))
    dh_out = dy @ params.W_y  # (T, B, H): the head's share of dh
    # what dC and dh multiply, for every step at once; then the loop does only what must be sequential
    P = o * (1.0 - tc * tc)  # dC += dh · P
    G = np.empty((T, B, 4, H))  # dz = [dC·G_i, dC·G_f, dC·G_g, dh·G_o]
    np.multiply(g, i * (1.0 - i), out=G[:, :, 0])
    np.multiply(c_prev, f * (1.0 - f), out=G[:, :, 1])
    np.multiply(i, 1.0 - g * g, out=G[:, :, 2])
    np.multiply(tc, o * (1.0 - o), out=G[:, :, 3])
    Wh = np.ascontiguousarray(params.W[:, :H])  # (4H, H)
    if B == 1 and T * (2 * H + 1) ** 2 * 8 <= LINEAR_BYTES:
        dh, dc = _dh_dc_linear(dh_out[:, 0], P[:, 0], G[:, 0], f[:, 0], Wh)
        dh, dc = dh[:, None], dc[:, None]
    else:
        dh, dc = _dh_dc_loop(dh_out, P, G, f, Wh)
    dz = np.empty((T, B, 4, H))
    np.multiply(dc[:, :, None], G[:, :, :3], out=dz[:, :, :3])  # input gate, forget gate, candidate
    np.multiply(dh, G[:, :, 3], out=dz[:, :, 3])  # output gate
    hx = np.concatenate([h_prev, Xb], axis=2).reshape(T * B, -1)  # (T·B, H+D)
    dzf = dz.reshape(T * B, 4 * H)
    dW = dzf.T @ hx
    db = dzf.sum(axis=0)
    return value, Grads(dW, db, dW_y, db_y), h[-1], c[-1]


def error_terms(err: np.ndarray, absolute: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each error's share of the loss and its derivative: e² and 2e, or |e| and sign(e) where
    ``absolute`` (a bool array broadcast against err: one loss per member) is true."""
    return np.where(absolute, np.abs(err), err * err), np.where(absolute, np.sign(err), 2.0 * err)


def check_loss(loss: object) -> None:
    """One of LOSSES, else one line saying which there are."""
    if loss not in LOSSES:
        raise LSTMError(f"the training loss must be one of {', '.join(map(repr, LOSSES))}, got {loss!r}")


def _dh_dc_loop(
    dh_out: np.ndarray, P: np.ndarray, G: np.ndarray, f: np.ndarray, Wh: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """dh and dC (T, B, H) at every step, back from the last: the docstring's recursion as written.

    dh_out (T, B, H) the head's share of dh; P (T, B, H); G (T, B, 4, H) (see loss_and_grads); f (T, B, H); Wh (4H, H).
    """
    T, B, H = dh_out.shape
    dh, dc = np.empty((T, B, H)), np.empty((T, B, H))
    dz = np.empty((B, 4, H))
    dh_next, dc_next = np.zeros((B, H)), np.zeros((B, H))
    add, mul, matmul = np.add, np.multiply, np.matmul
    for t in range(T - 1, -1, -1):
        add(dh_out[t], dh_next, out=dh[t])
        mul(dh[t], P[t], out=dc[t])
        add(dc[t], dc_next, out=dc[t])  # dC = dh · o · (1 - tanh²C) + dC_next
        mul(dc[t, :, None], G[t, :, :3], out=dz[:, :3])
        mul(dh[t], G[t, :, 3], out=dz[:, 3])
        mul(dc[t], f[t], out=dc_next)
        matmul(dz.reshape(B, 4 * H), Wh, out=dh_next)
    return dh, dc


def _dh_dc_linear(
    dh_out: np.ndarray, P: np.ndarray, G: np.ndarray, f: np.ndarray, Wh: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The same for one series, one matrix product a step: the recursion is linear in
    s_t = [dh_next, dC_next, 1] (2H+1,), so s_t = s_(t+1) A_t with A_t built for every step at once.

    dh_out, P, f (T, H); G (T, 4, H); Wh (4H, H). With Mc = Σ_(k=i,f,g) diag(G_k) Wh_k and
    Mh = diag(G_o) Wh_o (H, H), and d = dh_out_t:
        dh_next' = dh_next (Mh + diag(P) Mc) + dC_next Mc + d (Mh + diag(P) Mc)
        dC_next' = dh_next · f P + dC_next · f + d · f P
    """
    T, H = dh_out.shape
    Wb = Wh.reshape(4, H, H)
    Mc = G[:, 0, :, None] * Wb[0] + G[:, 1, :, None] * Wb[1] + G[:, 2, :, None] * Wb[2]  # (T, H, H)
    top = G[:, 3, :, None] * Wb[3] + P[:, :, None] * Mc  # (T, H, H)
    fP = f * P
    A = np.zeros((T, 2 * H + 1, 2 * H + 1))
    A[:, :H, :H] = top
    A[:, H : 2 * H, :H] = Mc
    diag = np.arange(H)
    A[:, diag, H + diag] = fP
    A[:, H + diag, H + diag] = f
    A[:, 2 * H, :H] = np.matmul(dh_out[:, None, :], top)[:, 0]
    A[:, 2 * H, H : 2 * H] = dh_out * fP
    A[:, 2 * H, 2 * H] = 1.0
    S = np.empty((T + 1, 2 * H + 1))  # S[t] = s_t; s_T = [0, 0, 1]
    S[T] = 0.0
    S[T, 2 * H] = 1.0
    dot = np.dot
    for t in range(T - 1, -1, -1):
        dot(S[t + 1], A[t], out=S[t])
    dh = dh_out + S[1:, :H]
    dc = P * dh + S[1:, H : 2 * H]
    return dh, dc


def epoch_grads(p: LSTMParams, x: np.ndarray, lookback: int, n_train: int) -> tuple[float, Grads]:
    """Truncated BPTT over one series x (T, 1): chunks of `lookback` steps, the state carried forward.

    Steps from n_train on (the validation tail) do not count in the loss.
    """
    T = x.shape[0] - 1  # inputs x_0..x_{T-1}, targets x_1..x_T
    total, grads = 0.0, None
    h = c = None
    weight = (np.arange(T) < n_train).astype(float)
    count = weight.sum()
    for t0 in range(0, T, lookback):
        t1 = min(T, t0 + lookback)
        wc = weight[t0:t1]
        if wc.sum() == 0:
            break
        loss, g, h, c = loss_and_grads(p, x[t0:t1], x[t0 + 1 : t1 + 1], h, c, weight=wc)
        share = wc.sum() / count
        total += loss * share
        scaled = [a * share for a in g]
        grads = scaled if grads is None else [a + s for a, s in zip(grads, scaled, strict=True)]
    return total, Grads(*grads)  # type: ignore[misc]
