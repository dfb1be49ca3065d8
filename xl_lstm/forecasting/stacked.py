"""K one-layer LSTMs with linear heads, trained as one: bptt.py's forward pass and BPTT, batched over members.

Each member k has its own weights and its own mini-batch; only the Python loop over the steps is
shared, so K members cost about one loop. The stack holds the members' weights side by side:

    W    (K, 4H, H+D)   each member's W in the sheet layout (row blocks i, f, g, o)
    b    (K, 4H)
    W_y  (K, O, H)
    b_y  (K, O)

and the data is each member's windows: X (K, T, B, D), Y (K, T, B, O), ``weight`` (K, T, B) the
weight of each error (0 for padding where the members' batches differ in size). Member k's
loss is Σ weight·(y - Y)² / (O Σ weight), or Σ weight·|y - Y| / (O Σ weight) for the members
trained on the absolute error, and its gradients are bptt.loss_and_grads' (module docstring
there) for that loss.

Inside, gate rows are packed o, i, f | g, the σ rows' weights halved: one tanh gives g and
tanh(z/2) = 2σ(z) - 1 for the three σ blocks, which are contiguous; in the backward pass the blocks
that dC drives (i, f, g)
are contiguous too. Every array is preallocated in a ``Workspace`` that is reused across updates:
no large temporaries, so no fresh pages for the allocator to fault in at each update.

A Workspace in float32 runs both passes in float32 (about twice as fast); the gradients come
back in float64 either way, summed in float64.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..lstm.params import LSTMParams
from .bptt import error_terms

__all__ = ["Workspace", "clip_each", "forward", "loss_and_grads", "stack", "unstack"]


def stack(members: Sequence[LSTMParams]) -> list[np.ndarray]:
    """[W (K, 4H, H+D), b (K, 4H), W_y (K, O, H), b_y (K, O)]: the members' weights side by side (copies)."""
    return [np.stack([np.asarray(getattr(p, n), dtype=np.float64) for p in members]) for n in ("W", "b", "W_y", "b_y")]


def unstack(arrays: Sequence[np.ndarray]) -> tuple[LSTMParams, ...]:
    """The members of a stack, each its own LSTMParams."""
    W, b, W_y, b_y = arrays
    return tuple(LSTMParams(W[k], b[k], W_y[k], b_y[k]) for k in range(W.shape[0]))


def _order(H: int) -> np.ndarray:
    """Packed row order o, i, f, g as indices into the sheet's i, f, g, o: (4H,)."""
    return np.r_[3 * H : 4 * H, 0 : 2 * H, 2 * H : 3 * H]


class Workspace:
    """Every array of one update, allocated once for up to (K, T, B) and reused (prefix views for smaller).

    Inside, a step's arrays are (K, F, B): features by batch, so that each gate block of each
    member is one contiguous slab (as in lstm.engine.run) and every NumPy call streams through it.
    A step's input column is [h_{t-1}; x_t; 1], so that z_t is one matmul with [W | b].
    """

    def __init__(self, K: int, T: int, B: int, H: int, D: int = 1, dtype: type = np.float64):
        self.K, self.H, self.D, self.dtype = K, H, D, np.dtype(dtype)
        size = K * H * B
        sizes = {
            "A": K * (H + D + 1) * B * (T + 1),  # (K, T+1, H+D+1, B) [h_{t-1}; x_t; 1]; A[:, T, :H] = h_T
            "Z": 4 * size * T,  # (K, T, 4H, B) gates σ(o, i, f) | g
            "G": 4 * size * T,  # (K, T, 4H, B) ∂gate/∂z times what multiplies it (see _factors)
            "dZ": 4 * size * T,  # (K, T, 4H, B) ∂L/∂z
            "dWt": K * T * 4 * H * (H + D + 1),  # (K, T, 4H, H+D+1) each step's share of d[W | b]
            "Cs": size * (T + 1),  # (K, T+1, H, B) C_0 = 0, C_1..C_T
            "TC": size * T,  # (K, T, H, B) tanh C_t
            "P": size * T,  # (K, T, H, B) o (1 - tanh² C)
            "dHo": size * T,  # (K, T, H, B) the head's share of ∂L/∂h
            "tmp": size,  # (K, H, B)
            "dh": size,
            "dh_next": size,
            "dc": size,
            "dc_next": size,
        }
        self._flat = {name: np.empty(n, self.dtype) for name, n in sizes.items()}

    def view(self, name: str, *shape: int) -> np.ndarray:
        return self._flat[name][: int(np.prod(shape))].reshape(shape)

    def hidden(self, K: int, T: int, B: int) -> np.ndarray:
        """h_1..h_T of the last forward pass: (K, T, H, B)."""
        return self.view("A", K, T + 1, self.H + self.D + 1, B)[:, 1:, : self.H]


def _packed(W: np.ndarray, b: np.ndarray, H: int) -> np.ndarray:
    """[W | b] (K, 4H, H+D+1) in packed order, the σ rows halved: σ(z) = (1 + tanh(z/2)) / 2."""
    order = _order(H)
    half = np.r_[np.full(3 * H, 0.5), np.ones(H)]
    return np.concatenate([W[:, order], b[:, order, None]], axis=2) * half[:, None]


def forward(arrays: Sequence[np.ndarray], X: np.ndarray, ws: Workspace) -> np.ndarray:
    """Run every member over its X (K, T, B, D) from zero states, filling ``ws``; returns y (K, T, O, B)."""
    W, b, W_y, b_y = arrays
    K, T, B, D = X.shape
    H = ws.H
    Wb = _packed(W, b, H).astype(ws.dtype)  # (K, 4H, H+D+1)
    A = ws.view("A", K, T + 1, H + D + 1, B)
    Z = ws.view("Z", K, T, 4 * H, B)
    Cs, TC, tmp = ws.view("Cs", K, T + 1, H, B), ws.view("TC", K, T, H, B), ws.view("tmp", K, H, B)
    A[:, 0, :H] = 0.0
    A[:, :T, H : H + D] = X.transpose(0, 1, 3, 2)
    A[:, T, H : H + D] = 0.0
    A[:, :, H + D] = 1.0
    Cs[:, 0] = 0.0
    # one tanh for all four gates; σ = (1 + tanh(z/2)) / 2 never overflows, and is 0 or far
    # above float32's slow subnormals
    matmul, add, mul, tanh = np.matmul, np.add, np.multiply, np.tanh
    for t in range(T):
        z = Z[:, t]  # (K, 4H, B)
        s, g = z[:, : 3 * H], z[:, 3 * H :]
        o, i, f = z[:, :H], z[:, H : 2 * H], z[:, 2 * H : 3 * H]
        matmul(Wb, A[:, t], out=z)  # [W | b] [h_{t-1}; x_t; 1], σ rows halved
        tanh(z, out=z)  # g, and tanh(z/2) for o, i, f
        mul(s, 0.5, out=s)
        add(s, 0.5, out=s)  # σ for o, i, f
        c = Cs[:, t + 1]
        mul(f, Cs[:, t], out=c)
        mul(i, g, out=tmp)
        add(c, tmp, out=c)  # C_t = f C_{t-1} + i g
        tanh(c, out=TC[:, t])
        mul(o, TC[:, t], out=A[:, t + 1, :H])  # h_t = o tanh C_t
    y = np.matmul(W_y[:, None].astype(ws.dtype), A[:, 1:, :H])  # (K, T, O, B)
    y += b_y[:, None, :, None].astype(ws.dtype)
    return y


def _factors(ws: Workspace, K: int, T: int, B: int) -> None:
    """G (K, T, 4H, B): [tanh C·o(1-o), g·i(1-i), C_{t-1}·f(1-f), i(1-g²)]; P = o(1 - tanh² C)."""
    H = ws.H
    Z, G = ws.view("Z", K, T, 4 * H, B), ws.view("G", K, T, 4 * H, B)
    TC, P, Cs = ws.view("TC", K, T, H, B), ws.view("P", K, T, H, B), ws.view("Cs", K, T + 1, H, B)
    s, g3 = Z[:, :, : 3 * H], G[:, :, : 3 * H]
    np.multiply(s, s, out=g3)
    np.subtract(s, g3, out=g3)  # σ(1-σ) for o, i, f
    o, i, g = Z[:, :, :H], Z[:, :, H : 2 * H], Z[:, :, 3 * H :]
    G[:, :, :H] *= TC
    G[:, :, H : 2 * H] *= g
    G[:, :, 2 * H : 3 * H] *= Cs[:, :T]
    gg = G[:, :, 3 * H :]
    np.multiply(g, g, out=gg)
    np.subtract(1.0, gg, out=gg)
    gg *= i
    np.multiply(TC, TC, out=P)
    np.subtract(1.0, P, out=P)
    P *= o


def loss_and_grads(
    arrays: Sequence[np.ndarray],
    X: np.ndarray,
    Y: np.ndarray,
    weight: np.ndarray,
    ws: Workspace,
    absolute: np.ndarray | None = None,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each member's loss (K,) and gradients [dW (K, 4H, H+D), db (K, 4H), dW_y (K, O, H), db_y (K, O)].

    X (K, T, B, D), Y (K, T, B, O), weight (K, T, B) ≥ 0 with some > 0 per member; ``ws`` holds (T, B).
    ``absolute`` (K,) bool: the members whose loss is the mean absolute error (bptt's "absolute"),
    the others' the mean squared error (default: all squared).
    """
    W, b, W_y, b_y = arrays
    K, T, B, D = X.shape
    H, O = ws.H, Y.shape[3]  # noqa: E741
    y = forward(arrays, X, ws)  # (K, T, O, B)
    N = weight.sum(axis=(1, 2)) * O  # (K,)
    err = y - Y.transpose(0, 1, 3, 2)  # (K, T, O, B)
    w = weight[:, :, None, :]  # (K, T, 1, B)
    a = np.zeros(K, bool) if absolute is None else np.asarray(absolute, bool)
    value, slope = error_terms(err, a[:, None, None, None])  # (K, T, O, B) each
    losses = np.sum(value * w, axis=(1, 2, 3)) / N
    dy = (slope * w / N[:, None, None, None]).astype(ws.dtype)  # (K, T, O, B)
    A = ws.view("A", K, T + 1, H + D + 1, B)
    dW_y = np.matmul(dy, A[:, 1:, :H].transpose(0, 1, 3, 2)).sum(axis=1, dtype=np.float64)  # (K, O, H)
    db_y = dy.sum(axis=(1, 3), dtype=np.float64)
    dHo = ws.view("dHo", K, T, H, B)
    np.matmul(W_y.transpose(0, 2, 1)[:, None].astype(ws.dtype), dy, out=dHo)

    _factors(ws, K, T, B)
    order = _order(H)
    WhT = np.ascontiguousarray(W[:, order, :H].transpose(0, 2, 1), dtype=ws.dtype)  # (K, H, 4H) packed, true signs
    Z, G, dZ = (ws.view(n, K, T, 4 * H, B) for n in ("Z", "G", "dZ"))
    P = ws.view("P", K, T, H, B)
    dh, dc = ws.view("dh", K, H, B), ws.view("dc", K, H, B)
    dh_next, dc_next = ws.view("dh_next", K, H, B), ws.view("dc_next", K, H, B)
    dh_next[...] = 0.0
    dc_next[...] = 0.0
    matmul, add, mul = np.matmul, np.add, np.multiply
    for t in range(T - 1, -1, -1):
        add(dHo[:, t], dh_next, out=dh)
        mul(dh, P[:, t], out=dc)
        add(dc, dc_next, out=dc)  # dC = dh o (1 - tanh² C) + dC_next
        dz = dZ[:, t]  # (K, 4H, B)
        mul(dh, G[:, t, :H], out=dz[:, :H])  # output gate
        mul(dc[:, None], G[:, t, H:].reshape(K, 3, H, B), out=dz[:, H:].reshape(K, 3, H, B))  # i, f, g
        if t:
            mul(dc, Z[:, t, 2 * H : 3 * H], out=dc_next)  # dC_next = dC f
            matmul(WhT, dz, out=dh_next)  # dh_next = W_hᵀ dz
    dWt = ws.view("dWt", K, T, 4 * H, H + D + 1)
    np.matmul(dZ, A[:, :T].transpose(0, 1, 3, 2), out=dWt)  # dz_t [h_{t-1}; x_t; 1]ᵀ
    dWb = dWt.sum(axis=1, dtype=np.float64)  # (K, 4H, H+D+1)
    dW, db = np.empty((K, 4 * H, H + D)), np.empty((K, 4 * H))
    dW[:, order], db[:, order] = dWb[:, :, : H + D], dWb[:, :, H + D]  # back to the sheet's i, f, g, o
    return losses, [dW, db, dW_y, db_y]


def clip_each(grads: list[np.ndarray], max_norm: float) -> list[np.ndarray]:
    """adam.clip_norm per member: member k's gradients scaled to global norm ≤ max_norm."""
    K = grads[0].shape[0]
    norms = np.sqrt(sum(np.sum((g * g).reshape(K, -1), axis=1) for g in grads))  # (K,)
    scale = np.where(norms > max_norm, max_norm / np.where(norms > 0, norms, 1.0), 1.0)
    if np.all(scale == 1.0):
        return grads
    return [g * scale.reshape((K,) + (1,) * (g.ndim - 1)) for g in grads]
