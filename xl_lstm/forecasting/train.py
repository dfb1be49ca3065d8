"""Training the one LSTM with a linear head: settings, scaling and transforms, fit, and
forecasts with intervals from its validation residuals. The loss and its gradient are in
``bptt``, the optimiser in ``adam``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from ..core.checks import check_whole, finite_array
from ..core.errors import LSTMError
from ..core.limits import DEFAULT_LEVELS
from ..lstm.params import LSTMParams, init_params
from ..lstm.recursive import recursive_forecast
from .adam import Adam, clip_norm, params_of
from .bptt import epoch_grads, forward

__all__ = [
    "Epoch",
    "FitConfig",
    "Scaler",
    "Model",
    "ForecastResult",
    "fit_one_lstm",
    "forecast_one_lstm",
]


# ---- the loss and its gradient -----------------------------------------------------------


# ---- scaling and transforms -----------------------------------------------------------------
@dataclass(frozen=True)
class Scaler:
    """x' = (x - center) / scale, per column; kind: standard, robust (median, IQR) or minmax."""

    kind: str
    center: np.ndarray  # (D,)
    scale: np.ndarray  # (D,)

    @classmethod
    def fit(cls, kind: str, X: np.ndarray) -> Scaler:
        if kind == "standard":
            center, scale = X.mean(axis=0), X.std(axis=0)
        elif kind == "robust":
            q1, med, q3 = np.percentile(X, [25, 50, 75], axis=0)
            center, scale = med, q3 - q1
        elif kind == "minmax":
            center, scale = X.min(axis=0), X.max(axis=0) - X.min(axis=0)
        else:
            raise LSTMError(f"scaler must be standard, robust or minmax, got {kind!r}")
        if np.any(scale <= 0):
            raise LSTMError(f"the series is constant (its {kind} scale is 0): there is nothing to learn")
        return cls(kind, center, scale)

    def transform(self, X: np.ndarray) -> np.ndarray:
        return (X - self.center) / self.scale

    def inverse(self, X: np.ndarray) -> np.ndarray:
        return X * self.scale + self.center


@dataclass(frozen=True)
class Model:
    """A trained model: weights, the scaler, the transforms, and backtest residuals for intervals."""

    params: LSTMParams  # one layer, head O = D
    scaler: Scaler
    log: bool = False
    diff: bool = False
    residuals: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (origins, k) forecast errors
    train_loss: float = float("nan")
    val_loss: float = float("nan")
    epochs: int = 0
    season: int = 0  # seasonal differencing lag (0: none)

    def __repr__(self) -> str:  # a line, not the weights: print(model) in a notebook
        p = self.params
        steps = ", ".join(
            k for k, on in (("log", self.log), ("diff", self.diff), (f"season {self.season}", self.season)) if on
        )
        return (
            f"Model(H={p.hidden_size}, inputs={p.input_size}, {self.scaler.kind} scaler"
            f"{', ' + steps if steps else ''}; {self.epochs} epochs, train loss {self.train_loss:.4g}, "
            f"validation loss {self.val_loss:.4g}, {len(self.residuals)} backtest origins)"
        )

    def transform(self, series: np.ndarray) -> np.ndarray:
        """Raw (T,) values -> the model's scaled inputs (T', 1) (shorter by the differencing lags)."""
        z = _pre(series, self.log, self.diff, self.season)
        return self.scaler.transform(z[:, None])


def _pre(y: np.ndarray, log: bool, diff: bool, season: int = 0) -> np.ndarray:
    """log, then first differences, then differences at the seasonal lag: each optional."""
    if log:
        if np.any(y <= 0):
            raise LSTMError("log=True needs a series of positive numbers; it has values ≤ 0")
        y = np.log(y)
    y = np.diff(y) if diff else y
    return y[season:] - y[:-season] if season else y


def series_values(name: str, series: Any, minimum: int) -> np.ndarray:
    values = getattr(series, "to_numpy", lambda: series)()
    y = finite_array(name, values, np.dtype(np.float64))
    if y.ndim == 2 and 1 in y.shape:
        y = y.ravel()
    if y.ndim != 1:
        raise LSTMError(f"{name} must be one column of numbers, got shape {y.shape}")
    if y.size < minimum:
        raise LSTMError(f"{name} is too short: {y.size} values, need at least {minimum}")
    return y


# ---- Adam -------------------------------------------------------------------------------------


# ---- fit -------------------------------------------------------------------------------------------


def _val_loss(p: LSTMParams, x: np.ndarray, n_train: int) -> float:
    T = x.shape[0] - 1
    if n_train >= T:
        return float("nan")
    _, _, _, y = forward(p, x[:T, None, :], None, None)
    return float(np.mean((y[n_train:, 0] - x[n_train + 1 :]) ** 2))


@dataclass(frozen=True)
class FitConfig:
    """Every training setting in one place; ``fit_one_lstm(y, config, **changes)`` trains with them.

    hidden        units H of the one LSTM layer
    lookback      steps of backpropagation through time (None: the whole series)
    epochs        passes over the series at most; training stops early when the loss on the
                  validation tail (the last ``val_fraction`` of the steps) has not improved for
                  ``patience`` epochs, and the best weights are kept (val_fraction 0: no tail,
                  every epoch runs and the last weights are kept)
    lr, clip      Adam's step size; the gradient's global norm is clipped to ``clip``
    seed          seed of the initial weights (``init_params``)
    scaler        standard, robust or minmax; ``log``, ``diff`` (first differences) and
                  ``season`` (differences at that lag, e.g. 12 for monthly data) come first
    """

    hidden: int = 8
    lookback: int | None = None
    epochs: int = 400
    lr: float = 0.01
    seed: int = 0
    scaler: str = "standard"
    log: bool = False
    diff: bool = False
    season: int = 0
    val_fraction: float = 0.15
    patience: int = 60
    clip: float = 1.0

    def changed(self, **settings: Any) -> FitConfig:
        """A copy with some settings changed; an unknown name is one LSTMError line."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise LSTMError(f"fit has no setting {unknown[0]!r}; the settings are {', '.join(sorted(known))}")
        return dataclasses.replace(self, **settings)


class Epoch(NamedTuple):
    """What ``fit_one_lstm`` reports to its ``on_epoch`` callback after each epoch."""

    epoch: int  # 1-based
    epochs: int  # the most it will run
    train_loss: float
    val_loss: float  # NaN without a validation tail
    phase: str = "training"  # what is being trained, for a progress bar's label ("validation: 3 members")


def fit_one_lstm(
    series: Any, config: FitConfig | None = None, *, on_epoch: Callable[[Epoch], None] | None = None, **settings: Any
) -> Model:
    """Train an LSTM with a linear head to predict each next value of ``series``: one column of
    numbers, or a list of such series (one model for all, one scaler fitted on all of them).

    ``config`` holds the settings (``FitConfig``; its defaults if omitted); keyword
    ``settings`` change some of them (``fit_one_lstm(y, hidden=4, epochs=800)``). ``on_epoch``
    is called with an ``Epoch`` after every epoch (the CLI draws its progress bar from it).
    Deterministic for a seed on one machine and BLAS build. Returns a Model with the
    backtest residuals of the validation tail, which ``forecast_one_lstm`` turns into prediction
    intervals.
    """
    cfg = (config or FitConfig()).changed(**settings)
    ys = _many(series)
    _check_settings(cfg)
    zs = [_pre(y, cfg.log, cfg.diff, cfg.season) for y in ys]
    if min(z.size for z in zs) < 8:
        raise LSTMError(
            f"series is too short for its differencing: {min(z.size for z in zs)} values remain, need at least 8"
        )
    model, n_trains = _train([z[:, None] for z in zs], cfg, on_epoch)
    return _with_residuals(model, ys, n_trains)


def fit_lagged(
    inputs: Any, config: FitConfig | None = None, *, on_epoch: Callable[[Epoch], None] | None = None, **settings: Any
) -> Model:
    """Train on a T×D table of inputs, a series and its D-1 lags as a template with lags lays
    them out: the head predicts each next row, all D columns (what the sheets feed back).

    The same training as ``fit_one_lstm`` (settings, scaler per column, callback); no transforms and
    no backtest residuals (the workbook holds its own test).
    """
    cfg = (config or FitConfig()).changed(**settings)
    X = finite_array("inputs", inputs, np.dtype(np.float64))
    if X.ndim != 2 or X.shape[0] < 8:
        raise LSTMError(f"inputs must be a T×D table with at least 8 rows, got shape {X.shape}")
    if cfg.log or cfg.diff or cfg.season:
        raise LSTMError("fit_lagged trains on the inputs as they are: no log, diff or season")
    _check_settings(cfg)
    return _train([X], cfg, on_epoch)[0]


def _check_settings(cfg: FitConfig) -> None:
    for name, v in (("hidden", cfg.hidden), ("epochs", cfg.epochs), ("patience", cfg.patience)):
        check_whole(name, v, 1)
    real = (int, float, np.integer, np.floating)
    vf = cfg.val_fraction
    if not isinstance(vf, real) or isinstance(vf, bool) or not 0 <= vf < 0.9:
        raise LSTMError(f"val_fraction must be from 0 to 0.9, got {vf!r}")
    for name, num in (("lr", cfg.lr), ("clip", cfg.clip)):
        if not isinstance(num, real) or isinstance(num, bool) or not (np.isfinite(num) and num > 0):
            raise LSTMError(f"{name} must be a number > 0, got {num!r}")
    check_whole("season", cfg.season, 0, hint=" (0: no seasonal differencing)")


def _train(zs: list[np.ndarray], cfg: FitConfig, on_epoch: Callable[[Epoch], None] | None) -> tuple[Model, list[int]]:
    """BPTT and Adam over series zs, each (T_k, D) before scaling: the model and each series' training steps."""
    n_trains = [max(4, int(round((len(z) - 1) * (1 - cfg.val_fraction)))) for z in zs]
    sc = Scaler.fit(cfg.scaler, np.concatenate([z[: n + 1] for z, n in zip(zs, n_trains, strict=True)]))  # (D,)
    xs = [sc.transform(z) for z in zs]  # each (T_k, D)
    shares = np.array(n_trains, float) / sum(n_trains)  # each series weighs by its training steps
    L = check_whole("lookback", max(len(z) for z in zs) if cfg.lookback is None else cfg.lookback, 1)
    D = zs[0].shape[1]

    p = init_params(D, cfg.hidden, output_size=D, seed=cfg.seed)
    arrays = [np.array(p.W), np.array(p.b), np.array(p.W_y), np.array(p.b_y)]
    adam = Adam([a.shape for a in arrays], cfg.lr)
    best, best_val, since, train_loss, done = arrays, np.inf, 0, np.nan, 0
    for epoch in range(1, cfg.epochs + 1):
        p = params_of(arrays)
        train_loss, grads = 0.0, [np.zeros_like(a) for a in arrays]
        for x, n, share in zip(xs, n_trains, shares, strict=True):
            loss, g = epoch_grads(p, x, L, n)
            train_loss += share * loss
            grads = [acc + share * gk for acc, gk in zip(grads, g, strict=True)]
        arrays = adam.step(arrays, clip_norm(grads, cfg.clip))
        vals = [_val_loss(params_of(arrays), x, n) for x, n in zip(xs, n_trains, strict=True)]
        val = float(np.mean(vals)) if all(np.isfinite(vals)) else float("nan")
        score = val if np.isfinite(val) else train_loss
        if score < best_val - 1e-12:
            best, best_val, since = arrays, score, 0
        else:
            since += 1
        done = epoch
        if on_epoch is not None:
            on_epoch(Epoch(epoch, cfg.epochs, float(train_loss), val))
        if since >= cfg.patience:
            break
    model = Model(
        params_of(best),
        sc,
        cfg.log,
        cfg.diff,
        train_loss=float(train_loss),
        val_loss=float(best_val),
        epochs=done,
        season=cfg.season,
    )
    return model, n_trains


def _many(series: Any) -> list[np.ndarray]:
    """One series, or a list of them (each one column of at least 8 numbers)."""
    if isinstance(series, (list, tuple)) and series and not np.isscalar(series[0]):
        return [series_values(f"series[{k}]", s, 8) for k, s in enumerate(series)]
    return [series_values("series", series, 8)]


def _with_residuals(model: Model, ys: list[np.ndarray], n_trains: list[int]) -> Model:
    """Rolling-origin errors on each series' validation tail: per origin, the k-step-ahead errors."""
    offset = 1 + (1 if model.diff else 0) + model.season  # raw values before the first validation target
    rows: list[np.ndarray] = []
    k_max = 24
    for y, n_train in zip(ys, n_trains, strict=True):
        for o in range(n_train + offset, y.size):
            k = min(k_max, y.size - o)
            row = np.full(k_max, np.nan)
            row[:k] = y[o : o + k] - _point_forecast(model, y[:o], k)
            rows.append(row)
    res = np.array(rows) if rows else np.zeros((0, 0))
    if res.size:
        res = res[:, : int(np.max(np.flatnonzero(np.isfinite(res).any(axis=0)))) + 1]  # drop all-NaN columns
    return dataclasses.replace(model, residuals=res)


def _point_forecast(model: Model, history: np.ndarray, horizon: int) -> np.ndarray:
    x = model.transform(history)  # (T', 1) scaled
    steps = recursive_forecast(model.params, x, horizon)[:, 0]  # scaled, (horizon,)
    z = model.scaler.inverse(steps[:, None])[:, 0]  # forecasts of the transformed series
    a = np.log(history) if model.log else history  # levels (log levels)
    b = np.diff(a) if model.diff else a  # what the seasonal difference was taken of
    if model.season:  # undo y_t - y_{t-m}: each forecast adds the value one season back
        ext = list(b)
        for v in z:
            ext.append(v + ext[-model.season])
        z = np.array(ext[len(b) :])
    if model.diff:
        z = a[-1] + np.cumsum(z)
    return np.exp(z) if model.log else z


def check_levels(levels: Any) -> tuple[float, ...]:
    """Interval levels as fractions, each between 0 and 1 (one given as a number is a tuple of one)."""
    if isinstance(levels, (int, float, np.number)) and not isinstance(levels, bool):
        levels = (float(levels),)  # one level given as a number
    for q in levels:
        if isinstance(q, bool) or not isinstance(q, (int, float, np.number)) or not 0 < q < 1:
            raise LSTMError(f"levels must be between 0 and 1 (e.g. 0.8, 0.95), got {q!r}")
    return tuple(levels)


class ForecastResult(NamedTuple):
    mean: np.ndarray  # (horizon,)
    lower: dict[float, np.ndarray]  # level -> (horizon,)
    upper: dict[float, np.ndarray]


def forecast_one_lstm(
    model: Model, history: Any, horizon: int, levels: tuple[float, ...] = DEFAULT_LEVELS
) -> ForecastResult:
    """Recursive multi-step forecast after ``history`` with split-conformal intervals.

    The interval at level q for k steps ahead is the forecast ± the q-quantile of the
    absolute k-step errors seen in the validation backtest (the last column's errors
    for k beyond it). Without residuals the intervals are NaN.
    """
    if not isinstance(model, Model):
        raise LSTMError(f"model must be a trained Model (from fit_one_lstm), got {type(model).__name__}")
    y = series_values("history", history, 2)
    check_whole("horizon", horizon, 1, 100_000)
    levels = check_levels(levels)
    mean = _point_forecast(model, y, horizon)
    lower, upper = {}, {}
    res = np.abs(model.residuals)
    for q in levels:
        width = np.full(horizon, np.nan)
        if res.size:
            for k in range(horizon):
                col = res[:, min(k, res.shape[1] - 1)]
                col = col[np.isfinite(col)]
                if col.size:
                    n = col.size  # split-conformal quantile with the finite-sample correction
                    width[k] = np.quantile(col, min(1.0, np.ceil((n + 1) * q) / n))
        lower[q], upper[q] = mean - width, mean + width
    return ForecastResult(mean, lower, upper)


# ---- keeping a model: .npz and workbooks --------------------------------------------------------


# ---- rolling-origin evaluation ---------------------------------------------------------------------
