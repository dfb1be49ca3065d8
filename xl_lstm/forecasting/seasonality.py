"""Seasonality: is a series seasonal at lag m, and its seasonal indices if so.

The test is the one the M4 competition's benchmarks used before a classical
decomposition, the autocorrelation at lag m, r_m, significant at 90 %:

    r_m > 1.645 · √((1 + 2 Σ_{k<m} r_k²) / n)

but taken on the series less its trend (the centred moving average below), not on the
series itself: on levels that still hold a trend, a random walk or a step, every r_k is
near 1 and the test called a straight line seasonal. Only a positive r_m counts: a season
repeats, it does not alternate.

The indices are those of a classical additive decomposition (of log values, for a
multiplicative one): a centred moving average of order m (2×m when m is even) is the
trend, and index j is the mean of (y_t - trend_t) over the steps t with t mod m = j,
shifted to sum to 0.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "CANDIDATE_SEASONS",
    "autocorrelation",
    "detect_season",
    "detrended",
    "is_seasonal",
    "seasonal_indices",
    "season_share",
    "seasonal_strength",
]

CANDIDATE_SEASONS = (4, 7, 12, 24, 52)  # quarters, days of a week, months, hours, weeks
Z_ONE = 1.645  # the test's critical value
MIN_SHARE = 0.6  # the share of the detrended variance that makes a season (season_share)


def autocorrelation(y: np.ndarray, lags: int) -> np.ndarray:
    """r_1..r_lags of y (n,), each against the whole series' variance: (lags,)."""
    d = y - y.mean()
    var = float(d @ d)
    if var == 0:
        return np.zeros(lags)
    return np.array([float(d[k:] @ d[: d.size - k]) / var for k in range(1, lags + 1)])


def detrended(y: np.ndarray, m: int) -> tuple[np.ndarray, int]:
    """y (n,) less its centred moving average of order m (2×m when m is even), and the step of
    its first value: ((n - 2⌊m/2⌋,), ⌊m/2⌋)."""
    w = np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.ones(m) / m
    trend = np.convolve(y, w, mode="valid")  # (n - len(w) + 1,), centred
    off = (w.size - 1) // 2
    return y[off : off + trend.size] - trend, off


def seasonal_strength(y: np.ndarray, m: int) -> float:
    """r_m of the detrended series when the 90 % test above finds it significant, else 0; a
    series shorter than three seasons is never called seasonal."""
    if m <= 1 or y.size < 3 * m:
        return 0.0
    rest, _ = detrended(y, m)
    r = autocorrelation(rest, m)
    limit = Z_ONE * np.sqrt((1 + 2 * float(np.sum(r[:-1] ** 2))) / rest.size)
    return float(r[-1]) if r[-1] > limit else 0.0


def is_seasonal(y: np.ndarray, m: int) -> bool:
    """At the season m the data's dates give: the 90 % test above, or a season that explains
    ``MIN_SHARE`` of the detrended variance. The test alone missed a clear season in four years
    of monthly data (36 detrended values leave r_12 at most 24/36, and a smooth season's own
    r_k, k < 12, widen its limit past that); noise, trends and random walks pass either one
    about one time in twenty."""
    return y.size >= 3 * m > 3 and (seasonal_strength(y, m) > 0 or season_share(y, m) >= MIN_SHARE)


def season_share(y: np.ndarray, m: int) -> float:
    """The share of the detrended series' variance that its seasonal indices explain,
    1 - Var(remainder) / Var(detrended) (Wang, Smith and Hyndman's seasonal strength); needs n ≥ 2m."""
    rest, off = detrended(y, m)
    var = float(rest.var())
    if var == 0:
        return 0.0
    s = _indices(rest, off, m)[(np.arange(off, off + rest.size)) % m]
    return max(0.0, 1.0 - float((rest - s).var()) / var)


def detect_season(y: np.ndarray, candidates: tuple[int, ...] = CANDIDATE_SEASONS) -> int:
    """The candidate lag with the strongest significant autocorrelation whose season also
    explains ``MIN_SHARE`` of the detrended variance (both, where a given season needs one),
    or 1 (none).

    Testing several candidates at 90 % each called white noise seasonal at one of them one
    time in five (and a trend with noise, a random walk about as often); requiring the share
    too leaves one in a hundred, where raising the test's critical value instead lost
    a clear season in five years of monthly data."""
    best, strength = 1, 0.0
    for m in candidates:
        r = seasonal_strength(y, m)
        if r > strength and season_share(y, m) >= MIN_SHARE:
            best, strength = m, r
    return best


def seasonal_indices(y: np.ndarray, m: int) -> np.ndarray:
    """Index j (m,) for the steps t ≡ j (mod m) of y (n,), summing to 0; needs n ≥ 2m."""
    rest, off = detrended(y, m)
    return _indices(rest, off, m)


def _indices(rest: np.ndarray, off: int, m: int) -> np.ndarray:
    """The mean of the detrended values (from step ``off``) at each position j of the season, centred: (m,)."""
    t = np.arange(off, off + rest.size)
    idx = np.array([rest[t % m == j].mean() for j in range(m)])
    return idx - idx.mean()
