"""Seasonality: is a series seasonal at lag m, and its seasonal indices if so.

The test is the one the M4 competition's benchmarks used before a classical
decomposition: the autocorrelation at lag m, r_m, is significant at 90 % when

    |r_m| > 1.645 · √((1 + 2 Σ_{k<m} r_k²) / n)

The indices are those of a classical additive decomposition (of log values, for a
multiplicative one): a centred moving average of order m (2×m when m is even) is the
trend, and index j is the mean of (y_t - trend_t) over the steps t with t mod m = j,
shifted to sum to 0.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CANDIDATE_SEASONS", "autocorrelation", "is_seasonal", "detect_season", "seasonal_indices"]

CANDIDATE_SEASONS = (4, 7, 12, 24, 52)  # quarters, days of a week, months, hours, weeks


def autocorrelation(y: np.ndarray, lags: int) -> np.ndarray:
    """r_1..r_lags of y (n,), each against the whole series' variance: (lags,)."""
    d = y - y.mean()
    var = float(d @ d)
    if var == 0:
        return np.zeros(lags)
    return np.array([float(d[k:] @ d[: d.size - k]) / var for k in range(1, lags + 1)])


def is_seasonal(y: np.ndarray, m: int) -> bool:
    """The 90 % test above; a series shorter than three seasons is never called seasonal."""
    if m <= 1 or y.size < 3 * m:
        return False
    r = autocorrelation(y, m)
    limit = 1.645 * np.sqrt((1 + 2 * float(np.sum(r[:-1] ** 2))) / y.size)
    return bool(abs(r[-1]) > limit)


def detect_season(y: np.ndarray, candidates: tuple[int, ...] = CANDIDATE_SEASONS) -> int:
    """The candidate lag with the strongest significant autocorrelation, or 1 (none)."""
    best, strength = 1, 0.0
    for m in candidates:
        if is_seasonal(y, m):
            r = abs(float(autocorrelation(y, m)[-1]))
            if r > strength:
                best, strength = m, r
    return best


def seasonal_indices(y: np.ndarray, m: int) -> np.ndarray:
    """Index j (m,) for the steps t ≡ j (mod m) of y (n,), summing to 0; needs n ≥ 2m."""
    w = np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.ones(m) / m
    trend = np.convolve(y, w, mode="valid")  # (n - len(w) + 1,), centred
    off = (w.size - 1) // 2
    detrended = y[off : off + trend.size] - trend
    t = np.arange(off, off + trend.size)
    idx = np.array([detrended[t % m == j].mean() for j in range(m)])
    return idx - idx.mean()
