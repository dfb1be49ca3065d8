"""Theta's line: the smoothed level's recursion, α and the drift, and how the forecast mixes it in."""

from __future__ import annotations

import numpy as np
import pytest

from xl_lstm.forecasting.auto import series_prep
from xl_lstm.forecasting.theta import ALPHAS, ThetaLine, levels, theta_line, theta_steps


@pytest.mark.parametrize("n", [1, 2, 31, 33, 100])  # one value, within a block, across blocks of 32
def test_the_level_is_the_smoothing_recursion_for_one_alpha_or_several(n: int) -> None:
    """The blocked products give the step-by-step recursion (what the sheet's column computes) to rounding."""
    d = 10 + np.random.default_rng(n).normal(size=n).cumsum()
    for alpha in (0.05, 0.3, 0.95, 1.0):
        want = [d[0]]
        for x in d[1:]:
            want.append(alpha * x + (1 - alpha) * want[-1])
        np.testing.assert_allclose(levels(d, alpha), want, rtol=1e-13)
    grid = levels(d, ALPHAS)  # (A, n): a row per α
    assert grid.shape == (ALPHAS.size, d.size)
    np.testing.assert_allclose(grid[3], levels(d, ALPHAS[3]), rtol=1e-15)
    np.testing.assert_array_equal(levels(d, 1.0), d)  # α = 1: the level is the series


def test_a_straight_line_gets_alpha_1_and_half_its_slope() -> None:
    """On a line every smaller α lags it, so the least one-step error is at α = 1; the drift is
    half the slope, and the line goes on from the last value at that drift."""
    d = 3.0 + 0.2 * np.arange(40)
    line = theta_line(d)
    assert line == ThetaLine(1.0, pytest.approx(0.1, rel=1e-12))
    np.testing.assert_allclose(d[-1] + theta_steps(line, d.size, 4), d[-1] + 0.1 * np.arange(1, 5), rtol=1e-12)


def test_a_noisy_level_gets_a_small_alpha_and_no_drift() -> None:
    d = 5 + np.random.default_rng(1).normal(0, 1, 400)
    line = theta_line(d)
    assert line.alpha <= 0.1 and abs(line.drift) < 1e-3


def test_the_lag_term_grows_from_one_step_to_one_over_alpha() -> None:
    """(1 - (1 - α)^n) / α: 1 after one value, 1/α after many; for arrays of origins at once."""
    line = ThetaLine(0.25, 1.0)
    steps = theta_steps(line, np.array([1, 200]), 3)  # (2 origins, 3 steps)
    np.testing.assert_allclose(steps, [[1, 2, 3], [4, 5, 6]], rtol=1e-12)


def test_the_forecast_mixes_theta_s_line_in_with_its_weight() -> None:
    """Weight 0 is the LSTM's forecast alone, weight 1 Theta's line alone (seasonal indices and
    the log undone), and a weight between mixes them in d (a geometric mean of the values)."""
    t = np.arange(60)
    y = np.exp(0.01 * t + 0.1 * np.sin(2 * np.pi * t / 12) + 0.02 * np.random.default_rng(2).normal(size=60))
    prep = series_prep("y", y, 12)
    assert prep.log and prep.season == 12 and prep.theta.alpha < 1
    u_hat = np.random.default_rng(3).normal(size=(3, 6))  # (members, h)
    d = prep.deseasonalised(y)
    d_last, level = float(d[-1]), float(levels(d, prep.theta.alpha)[-1])
    alone = prep.values(d_last, u_hat, 60, 0.9)
    np.testing.assert_array_equal(prep.values(d_last, u_hat, 60, 0.9, level, 0.0), alone)
    s = prep.indices[(60 + np.arange(6)) % 12]
    theta = np.exp(level + theta_steps(prep.theta, 60, 6) + s)
    np.testing.assert_allclose(prep.values(d_last, u_hat, 60, 0.9, level, 1.0), np.broadcast_to(theta, (3, 6)))
    np.testing.assert_allclose(prep.values(d_last, u_hat, 60, 0.9, level, 0.25), alone**0.75 * theta**0.25, rtol=1e-12)
