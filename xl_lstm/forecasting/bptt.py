"""The loss of an LSTM with a linear head and its gradient, by backpropagation through time.

The model reads a series one step at a time and its head predicts the next step,
y_t = W_y h_t + b_y ≈ x_{t+1}: exactly what the template's sheets and LSTM_FORECAST
compute, so a trained model drops into a workbook unchanged.

    loss  L = mean over t, b, o of (y_t - x_{t+1})²

Backward pass, per step (σ' = σ(1-σ), tanh' = 1 - tanh²), from the top:
    dy = 2 (y - target) / N           dW_y += dyᵀ h      db_y += Σ dy
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

__all__ = ["Grads", "epoch_grads", "loss_and_grads", "sequence_loss"]


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
    params: LSTMParams, X: Any, Y: Any, h0: Any = None, c0: Any = None, *, weight: Any = None
) -> tuple[float, Grads, np.ndarray, np.ndarray]:
    """The loss, its gradients, and the last h and C (for the next chunk of a long series).

    X (T, [B,] D) inputs, Y (T, [B,] O) targets; ``weight`` (T,) (optional) weights each
    step's squared error, e.g. 0 for steps that only warm the state up. The loss is the
    weighted mean over steps, series and outputs.
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
    w = np.ones(T) if weight is None else as_vector("weight", weight, T, np.dtype(np.float64))
    if np.any(w < 0) or not np.any(w > 0):
        raise LSTMError("weight must be one number ≥ 0 per step, at least one of them > 0")
    N = float(w.sum()) * B * O
    r, h_prev, c_prev, y = forward(params, Xb, h0, c0)
    dy = 2.0 * (y - Yb) * w[:, None, None] / N  # (T, B, O)
    loss = float(np.sum((y - Yb) ** 2 * w[:, None, None]) / N)

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
    dz = np.empty((T, B, 4, H))
    dh, dc = np.empty((B, H)), np.empty((B, H))
    dh_next = np.zeros((B, H))
    dc_next = np.zeros((B, H))
    add, mul, matmul = np.add, np.multiply, np.matmul
    for t in range(T - 1, -1, -1):
        add(dh_out[t], dh_next, out=dh)
        mul(dh, P[t], out=dc)
        add(dc, dc_next, out=dc)  # dC = dh · o · (1 - tanh²C) + dC_next
        mul(dc[:, None], G[t, :, :3], out=dz[t, :, :3])  # input gate, forget gate, candidate
        mul(dh, G[t, :, 3], out=dz[t, :, 3])  # output gate
        mul(dc, f[t], out=dc_next)
        matmul(dz[t].reshape(B, 4 * H), Wh, out=dh_next)
    hx = np.concatenate([h_prev, Xb], axis=2).reshape(T * B, -1)  # (T·B, H+D)
    dzf = dz.reshape(T * B, 4 * H)
    dW = dzf.T @ hx
    db = dzf.sum(axis=0)
    return loss, Grads(dW, db, dW_y, db_y), h[-1], c[-1]


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
