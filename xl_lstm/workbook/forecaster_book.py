"""The automatic forecaster as a workbook holds it: its defined names, read back, and every
block its sheets compute (the refresh writes them; the tests compare them with LibreOffice).

A template of one series holds, beside the LSTM you watch gate by gate, the forecaster of
``xl_lstm.forecasting.auto``: the transforms of the series, K LSTMs (the members), the median of their
forecasts and the intervals. ``AUTO_NAMES`` says what each defined name holds and its shape
(K members of H units, n steps ahead, L levels, season m); docs/template.md lists the same table.
``AUTO_INPUT_NAMES`` are what the model is; the other names are computed from them and from
the series (``lstm_series``, ``lstm_history``) by ``compute_forecaster_blocks``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.errors import LSTMError
from ..forecasting import theta
from ..forecasting.auto import SeriesPrep
from ..forecasting.metrics import mase, seasonal_naive, smape
from ..forecasting.theta import ThetaLine
from ..lstm.engine import run
from ..lstm.params import QUANTITIES, LSTMParams
from ..lstm.recursive import advance

__all__ = [
    "AUTO_INPUT_NAMES",
    "AUTO_NAMES",
    "BookForecaster",
    "band_order",
    "compute_forecaster_blocks",
    "member_columns",
    "older_columns",
    "read_forecaster",
    "stacked_bands",
]

AUTO_NAMES: dict[str, tuple[str, str]] = {
    "auto_settings": ("1 × 9", "log (1 or 0), unit, season m, σ, damping φ, scale, Theta's α, drift, weight w"),
    "auto_indices": ("m × 1", "seasonal indices of the (log) levels"),
    "auto_widths": ("n × L", "interval half-widths per step ahead and level, in units of scale"),
    "auto_levels": ("1 × L", "the intervals' levels"),
    "auto_W": ("K·4H × (H+1)", "the members' weights, a 4H block each: rows i, f, g, o; h columns, then u"),
    "auto_b": ("K·4H × 1", "the members' biases"),
    "auto_W_y": ("K × H", "the members' heads, each predicting the next u"),
    "auto_b_y": ("K × 1", "the heads' biases"),
    "auto_transform": ("T × 5", "a, s, d, u, ℓ per step (u from step 2; ℓ the smoothed level of d)"),
    "auto_states_k": (
        "(T_h+n−2) × (6H+2)",
        "member k: u fed in, i, f, g, C, o, h, y; the history, then the forecast fed back",
    ),
    "auto_sequence_udf_k": ("(T_h−1) × 6H", "member k's i, f, g, C, o, h over the history from LSTM_SEQUENCE"),
    "auto_forecast_steps": ("n × (3+3K)", "φ^k, s, then per member û, d̂, ŷ; then Theta's line θ"),
    "auto_forecast_formulas": ("n × (1+2L)", "the median forecast, then lower and upper per level"),
    "auto_naive": ("n × 1", "seasonal naive, for comparison"),
    "auto_bands": (
        "n × 2L",
        "the intervals as the chart stacks them: the widest lower bound, then the gap up to each next bound",
    ),
    "auto_forecast_udf_members": ("n × K", "each member's û from LSTM_FORECAST"),
    "auto_forecast_udf_steps": ("n × 2K", "d̂ and ŷ per member from those"),
    "auto_forecast_udf": ("n × 1", "their median"),
    "auto_metrics": ("2 × 2", "sMAPE and MASE of the forecast (first column) and of seasonal naive"),
}
OLDER_SETTINGS = 6  # auto_settings' numbers in a workbook made before Theta's line: no α, drift, weight
THETA_COLUMNS = ("auto_transform", "auto_forecast_steps")  # their last column (ℓ, θ) is Theta's line's
AUTO_INPUT_NAMES = (
    "auto_settings",
    "auto_indices",
    "auto_widths",
    "auto_levels",
    "auto_W",
    "auto_b",
    "auto_W_y",
    "auto_b_y",
)


@dataclass(frozen=True)
class BookForecaster:
    """The forecaster as a workbook holds it (every number at a sheet's 15 digits)."""

    members: tuple[LSTMParams, ...]
    prep: SeriesPrep
    damping: float
    widths: np.ndarray  # (n, L)
    levels: np.ndarray  # (L,)
    weight: float = 0.0  # Theta's line's weight w

    @property
    def horizon(self) -> int:
        return int(self.widths.shape[0])


def read_forecaster(numbers: Any, where: str) -> BookForecaster:
    """The forecaster from a workbook's input blocks (``numbers(name)`` gives each as 2-D floats)."""
    s = numbers("auto_settings")
    if s.shape not in ((1, 9), (1, OLDER_SETTINGS)) or not np.isfinite(s).all():
        raise LSTMError(
            f"{where}: auto_settings must be 9 numbers in a row (log, unit, season, σ, φ, scale, α, drift, weight), "
            f"or 6 in a workbook made before Theta's line (its weight 0)"
        )
    numbers9 = [float(v) for v in s[0]] + ([1.0, 0.0, 0.0] if s.size == OLDER_SETTINGS else [])  # older: no line
    log, unit, m, sigma, damping, scale, alpha, drift, weight = numbers9
    if m != int(m) or m < 1 or sigma <= 0 or scale <= 0 or not 0 <= damping <= 1 or unit <= 0:
        raise LSTMError(f"{where}: auto_settings holds an impossible value: season {m:g}, σ {sigma:g}, φ {damping:g}")
    if not 0 < alpha <= 1 or not 0 <= weight <= 1:
        raise LSTMError(
            f"{where}: auto_settings holds an impossible value: Theta's α {alpha:g} (0 < α ≤ 1), weight {weight:g} (0 to 1)"
        )
    indices = numbers("auto_indices")[:, 0]
    if indices.size != int(m):
        raise LSTMError(f"{where}: auto_indices has {indices.size} rows, the season is {int(m)}")
    W, b, W_y, b_y = (numbers(k) for k in ("auto_W", "auto_b", "auto_W_y", "auto_b_y"))
    K, H = W_y.shape
    if W.shape != (4 * H * K, H + 1) or b.shape != (4 * H * K, 1) or b_y.shape != (K, 1):
        raise LSTMError(f"{where}: auto_W, auto_b, auto_W_y, auto_b_y do not agree on {K} members of H={H}")
    members = tuple(
        LSTMParams(W[4 * H * k : 4 * H * (k + 1)], b[4 * H * k : 4 * H * (k + 1), 0], W_y[k : k + 1], b_y[k])
        for k in range(K)
    )
    prep = SeriesPrep(log == 1, unit, int(m), indices, sigma, scale, ThetaLine(alpha, drift))
    return BookForecaster(members, prep, damping, numbers("auto_widths"), numbers("auto_levels")[0], weight)


def _states(p: LSTMParams, u: np.ndarray, n: int) -> np.ndarray:
    """u fed in | i f g C o h (H each) | y per row: the changes u (T', ), then n-1 forecasts fed back."""
    r = run(p, u[:, None], outputs="all")
    table = r.table()  # (T', 6H): i | f | g | C | o | h, QUANTITIES' order
    y = np.asarray(r.y)[:, 0]  # (T',) the head at every step
    rows = [np.concatenate([[x], quantities, [yi]]) for x, quantities, yi in zip(u, table, y, strict=True)]
    hk, ck, yk = r.h_n, r.c_n, y[-1:]  # (1, H), (1, H), (1,): one layer's states, the last y
    for _ in range(n - 1):
        x = yk
        hk, ck, yk, step = advance(p, x, hk, ck)  # the recursion of recursive_forecast
        rows.append(np.concatenate([x, step.row(), yk]))
    return np.array(rows)


def member_columns(states: np.ndarray, width: int, where: str) -> np.ndarray:
    """A member's states (rows, 6H+2) for a block ``width`` columns wide: all of them, or for a
    workbook made before the gates were shown (2H+2 wide) its u, C, h and y; any other width is refused."""
    H = (states.shape[1] - 2) // 6
    if width == 6 * H + 2:
        return states
    if width == 2 * H + 2:
        C, h = 1 + QUANTITIES.index("C") * H, 1 + QUANTITIES.index("h") * H
        return np.concatenate([states[:, :1], states[:, C : C + H], states[:, h : h + H], states[:, -1:]], axis=1)
    raise LSTMError(
        f"{where} is {width} columns wide; a member of H={H} needs 6H+2 = {6 * H + 2} (u, i, f, g, C, o, h, y) "
        f"or, as older workbooks had it, 2H+2 = {2 * H + 2} (u, C, h, y)"
    )


def older_columns(name: str, block: np.ndarray, width: int, f: BookForecaster, where: str) -> np.ndarray:
    """``block`` for a workbook made before Theta's line, whose ``THETA_COLUMNS`` lack their
    last column: without it, when the line's weight is 0 (as such a workbook's settings give);
    any other block as computed."""
    if name not in THETA_COLUMNS or width != block.shape[1] - 1:
        return block
    if f.weight:
        raise LSTMError(
            f"{where} is {width} columns wide, without Theta's line, but auto_settings gives the line a weight of {f.weight:g}"
        )
    return block[:, :-1]


def _inverse(
    f: BookForecaster, u_hat: np.ndarray, d_last: float, level: float, T_h: int
) -> tuple[np.ndarray, np.ndarray]:
    """d̂ (the LSTM's path) and ŷ (n,) of one member, as the sheet computes them."""
    k = np.arange(1, u_hat.size + 1)
    d_hat = d_last + np.cumsum(f.prep.sigma * f.damping**k * u_hat)
    return d_hat, f.prep.values(d_last, u_hat, T_h, f.damping, level, f.weight)


def band_order(levels: np.ndarray) -> list[tuple[int, int]]:
    """The intervals' bounds from the bottom up, as (level index, side: 0 lower, 1 upper): the
    widest level's lower bound first, its upper bound last."""
    widest_first = sorted(range(levels.size), key=lambda q: -float(levels[q]))
    return [(q, 0) for q in widest_first] + [(q, 1) for q in reversed(widest_first)]


def stacked_bands(bounds: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """(n, 2L) lower and upper bound per level -> (n, 2L) the lowest bound, then the gap up to each
    next bound (``band_order``): what a stacked area chart adds up to draw the bands."""
    ordered = np.stack([bounds[:, 2 * q + side] for q, side in band_order(levels)], axis=1)
    return np.concatenate([ordered[:, :1], np.diff(ordered, axis=1)], axis=1)


def compute_forecaster_blocks(f: BookForecaster, series: np.ndarray, T_h: int, season: int) -> dict[str, np.ndarray]:
    """Every output block by name, from the forecaster and the series (T,) with T_h history steps."""
    p, n = f.prep, f.horizon
    a = np.log(series) if p.log else series / p.unit
    s = p.indices[np.arange(series.size) % p.season]
    d = a - s
    u = np.r_[np.nan, np.diff(d) / p.sigma]
    ell = theta.levels(d, p.theta.alpha)
    transform = np.stack([a, s, d, u, ell], axis=1).astype(object)
    transform[0, 3] = None  # no change before the first step
    blocks: dict[str, np.ndarray] = {"auto_transform": transform}
    k = np.arange(1, n + 1)
    steps = [f.damping**k, p.indices[(T_h + k - 1) % p.season]]
    line = ell[T_h - 1] + theta.theta_steps(p.theta, T_h, n)  # (n,) θ
    values = []
    for j, member in enumerate(f.members):
        table = _states(member, u[1:T_h], n)  # (T_h - 1 + n - 1, 6H + 2)
        blocks[f"auto_states_{j + 1}"] = table
        blocks[f"auto_sequence_udf_{j + 1}"] = table[: T_h - 1, 1:-1]  # (T_h - 1, 6H), what LSTM_SEQUENCE gives
        u_hat = table[T_h - 2 :, -1]  # y of the last history row, then of each forecast row
        d_hat, y_hat = _inverse(f, u_hat, float(d[T_h - 1]), float(ell[T_h - 1]), T_h)
        steps += [u_hat, d_hat, y_hat]
        values.append(y_hat)
    ordered = steps[:2] + steps[2::3] + steps[3::3] + steps[4::3] + [line]  # φ^k, s, û (K), d̂ (K), ŷ (K), θ
    blocks["auto_forecast_steps"] = np.stack(ordered, axis=1)
    median = np.median(values, axis=0)
    bands = [median + sign * f.widths[:, q] * p.step_error for q in range(f.levels.size) for sign in (-1, 1)]
    blocks["auto_forecast_formulas"] = np.stack([median, *bands], axis=1)
    blocks["auto_bands"] = stacked_bands(np.stack(bands, axis=1), f.levels)
    history = series[:T_h]
    naive = seasonal_naive(history, season, n) if season <= T_h else np.full(n, np.nan)
    blocks["auto_naive"] = naive[:, None]
    blocks["auto_forecast_udf_members"] = np.stack(steps[2::3], axis=1)
    blocks["auto_forecast_udf_steps"] = np.stack(steps[3::3] + steps[4::3], axis=1)
    blocks["auto_forecast_udf"] = median[:, None]
    actual = series[T_h : T_h + n]
    if actual.size == n:
        blocks["auto_metrics"] = np.array(
            [
                [smape(actual, median), smape(actual, naive)],
                [mase(actual, median, season, history), mase(actual, naive, season, history)],
            ]
        )
    return {k: np.asarray(v, dtype=object) for k, v in blocks.items()}
