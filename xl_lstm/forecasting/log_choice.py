"""Log or levels: the transform that makes a series' spread steadier.

Guerrero's method (1993) picks the Box-Cox λ for which the ratio of each block's standard
deviation to its mean raised to 1 - λ varies least across blocks of one season (two steps
when there is no season). Here λ is 0 (the log) or 1 (the levels):

    r_i(λ) = s_i / μ_i^(1-λ)         CV(λ) = sd(r) / mean(r)

The log stays unless the levels steady the spread twice as well, CV(1) < CV(0) / 2: the
plain comparison (levels whenever CV(1) < CV(0)) moved 40 % of the development sets' series
to levels and forecast them no better (M1 monthly: sMAPE 15.22 against 15.04 with logs),
while a line or a trend with even noise is far steadier in levels (CV(1) near 0).

A series whose swings grow with its level (airline passengers) has steadier s_i / μ_i: the
log. A straight line, or a trend with noise of a constant size, has steadier s_i: the
levels, where its changes are constant and a forecast continues them; the log of a line
has shrinking changes, which a forecast extrapolates into a bend.
"""

from __future__ import annotations

import numpy as np

__all__ = ["spread_variation", "takes_log"]


def spread_variation(y: np.ndarray, lam: float, period: int) -> float:
    """CV(λ) above over the last ⌊n/p⌋ whole blocks of p = max(period, 2) steps of y (n,) > 0."""
    p = max(period, 2)
    k = y.size // p
    blocks = y[y.size - k * p :].reshape(k, p)  # (k, p)
    r = blocks.std(axis=1, ddof=1) / blocks.mean(axis=1) ** (1.0 - lam)  # (k,)
    if np.all(r == r[0]):
        return 0.0
    return float(r.std(ddof=1) / r.mean()) if r.mean() > 0 else float("inf")


LEVELS_MARGIN = 0.5  # levels when CV(1) < LEVELS_MARGIN · CV(0)


def takes_log(y: np.ndarray, period: int) -> bool:
    """Whether y (n,) is forecast in logs: never with a value ≤ 0; else unless the levels steady
    its spread twice as well. A series of fewer than three blocks is too short to tell and takes
    the log."""
    if not np.all(y > 0):
        return False
    if y.size < 3 * max(period, 2):
        return True
    return not spread_variation(y, 1.0, period) < LEVELS_MARGIN * spread_variation(y, 0.0, period)
