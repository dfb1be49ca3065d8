"""Theta's line: the classical Theta method's forecast of a deseasonalised series d (n,).

The Theta method (Assimakopoulos and Nikolopoulos, winner of the M3 competition) is, as
Hyndman and Billah showed, simple exponential smoothing with a drift of half the series'
linear-regression slope b:

    ℓ_0 = d_0,  ℓ_t = α d_t + (1 - α) ℓ_(t-1)          the smoothed level
    θ_(n+k) = ℓ_(n-1) + (b / 2) · (k - 1 + (1 - (1 - α)^n) / α)

(ℓ_(n-1) is the level after the n-th value, index n - 1 from 0). α minimises the squared
one-step errors d_t - ℓ_(t-1) over the grid ALPHAS. The forecaster mixes this line with its
LSTM's forecast, with a weight chosen by validation (xl_lstm.forecasting.auto): the LSTM
learns shapes across series, the line holds each series' own drift, and the published
winners of the M4 competition combined in the same spirit.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

__all__ = ["ALPHAS", "ThetaLine", "levels", "theta_line", "theta_steps"]

ALPHAS = np.linspace(0.05, 1.0, 20)  # the smoothing weights tried (20 steps of 0.05)


class ThetaLine(NamedTuple):
    alpha: float  # α, the level's smoothing weight
    drift: float  # b / 2, half the regression slope of d on t


BLOCK = 32  # steps of the smoothing done as one small matrix product (levels)


def _smoothing(alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each α (A,), over a block of BLOCK steps: what the level before the block keeps at
    step j, (1 - α)^(j+1): (A, B); and what value i of the block adds at step j ≥ i,
    α (1 - α)^(j-i): (A, B, B), lower triangular."""
    keep = 1.0 - alpha
    j = np.arange(BLOCK)
    lag = j[:, None] - j[None, :]  # (B, B)
    carry = keep[:, None] ** (j + 1)
    add = np.where(lag >= 0, alpha[:, None, None] * keep[:, None, None] ** np.maximum(lag, 0), 0.0)
    return carry, add


_GRID = _smoothing(ALPHAS)  # theta_line's, made once


def levels(d: np.ndarray, alpha: Any) -> np.ndarray:
    """ℓ (..., n): the smoothed levels of d (n,) for α a number or an array (...,) of them.

    The recursion a block of BLOCK steps at a time: ℓ over a block is the level before it times
    (1 - α)^(j+1), plus the block's values through a small lower-triangular matrix. The same
    numbers as the step-by-step recursion to rounding (a test), at a fraction of its Python
    loop's cost (one product per block, not per step)."""
    a = np.asarray(alpha, dtype=float)
    return _blocked(d, *_smoothing(a.reshape(-1))).reshape(a.shape + d.shape)


def _blocked(d: np.ndarray, carry: np.ndarray, add: np.ndarray) -> np.ndarray:
    """ℓ (A, n) of d (n,) from ``_smoothing``'s two arrays for A values of α."""
    out = np.empty((carry.shape[0], d.size))
    out[:, 0] = d[0]
    for t0 in range(1, d.size, BLOCK):
        b = min(BLOCK, d.size - t0)
        out[:, t0 : t0 + b] = out[:, t0 - 1 : t0] * carry[:, :b] + add[:, :b, :b] @ d[t0 : t0 + b]
    return out


def theta_line(d: np.ndarray) -> ThetaLine:
    """α (the least squared one-step error over ALPHAS, the smaller on a tie) and the drift of d (n ≥ 2,)."""
    ell = _blocked(d, *_GRID)  # (A, n)
    sse = np.sum((d[1:] - ell[:, :-1]) ** 2, axis=1)  # (A,)
    t = np.arange(d.size, dtype=float)
    slope = float(np.sum((t - t.mean()) * (d - d.mean())) / np.sum((t - t.mean()) ** 2))
    return ThetaLine(float(ALPHAS[int(np.argmin(sse))]), slope / 2)


def theta_steps(line: ThetaLine, n: Any, horizon: int) -> np.ndarray:
    """(b / 2) · (k - 1 + (1 - (1 - α)^n) / α) for k = 1..horizon, after n values (a number or an
    array (...,)): (..., horizon), what is added to the last level ℓ_(n-1)."""
    k = np.arange(1, horizon + 1)
    lag = (1 - (1 - line.alpha) ** np.asarray(n, dtype=float)[..., None]) / line.alpha  # (..., 1)
    return line.drift * (k - 1 + lag)
