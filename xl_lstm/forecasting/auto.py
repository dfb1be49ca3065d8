"""The automatic forecaster: one LSTM for many series, its choices made by validation.

Each series y (n,) is turned into what the LSTM reads, in four steps, each undone by the forecast:

    a_t = log y_t                 when every value is > 0, unless the levels steady the series
                                  spread twice as well (xl_lstm.forecasting.log_choice); else y_t / mean|y| (the unit)
    s_j                           seasonal indices of a at the season m, when a is seasonal
                                  there (xl_lstm.forecasting.seasonality's test), else none
    d_t = a_t - s_(t mod m)       deseasonalised
    u_t = (d_t - d_(t-1)) / σ     the changes, σ = their standard deviation (their size when
                                  they are all equal, a line): per-series scaling

One LSTM with a linear head reads u and predicts the next u, for every series at once
(a global model, as the best neural forecasters of the M4 competition were): it trains on
windows of L steps from a zero state, in mini-batches across series, by BPTT and Adam
(``bptt.loss_and_grads``'s maths, in float32). Several members (seeds) are trained, side by
side as one stacked model (``stacked``); the forecast is their median. As N-BEATS ensembles
models trained on different losses, the members alternate between the squared error (the
mean's loss) and the absolute error (the median's): on the development sets, over three
seeds, as good as all-squared on monthly data and better on quarterly, yearly and the ten
series, where all-absolute lost on monthly data (``AutoConfig.losses``).

Forecast k = 1..h steps after the last value, the LSTM's û fed back one step at a time:

    d̂_(n+k) = d_n + σ Σ_(j≤k) φ^j û_(n+j)      φ ≤ 1 damps the predicted change;
                                                φ = 0 is the naive forecast (of d)
    θ_(n+k)                                     Theta's line of d (xl_lstm.forecasting.theta):
                                                its smoothed level plus half its trend's slope
    ŷ_(n+k) = exp((1 - w) d̂_(n+k) + w θ_(n+k) + s_((n+k-1) mod m))    (or · mean|y| for levels)

φ and the weight w are chosen by validation, never fixed: the members are first trained on the
series less their last values, forecast those values from one or more origins, and (φ, w) is
the pair of ``AutoConfig.dampings`` and ``AutoConfig.weights`` with the least mean scaled error
(MASE's numerator over the series' mean absolute one-step change). Mixing in Theta's line, as
the M4 competition's best entries combined methods, was measured on the development sets over
three seeds: MASE 1.088 -> 1.056 on M1 monthly, 3.692 -> 3.439 on M1 yearly, 1.081 -> 1.033 on
the ten series, and better on every set (docs/benchmarks.md).

The same out-of-sample errors give the intervals: at step k, the split-conformal quantile of
the absolute scaled errors, made non-decreasing in k; past the validated horizon they grow as
√k, and the forecast says so. The final members then continue from the validation members
on the whole series for a quarter of the updates (REFIT_SHARE) rather than start again: on the
development sets as good or better with 200 or more updates, and 3/8 less training; with fewer
(REFIT_MIN_UPDATES) it was worse, so they start again.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from ..core.checks import check_whole, finite_array
from ..core.errors import LSTMError
from ..core.limits import DEFAULT_LEVELS, MAX_HORIZON
from ..lstm.params import LSTMParams
from . import theta
from .bptt import check_loss
from .log_choice import takes_log
from .members import TRAIN_DTYPE, batch_for, member_steps, train_members, window_count, windows
from .pretrained import check_fits, load_pretrained
from .seasonality import CANDIDATE_SEASONS, detect_season, is_seasonal, seasonal_indices
from .theta import ThetaLine
from .train import Epoch, ForecastResult, check_levels

__all__ = ["AutoConfig", "AutoModel", "SeriesPrep", "fit_auto", "forecast_auto", "series_prep"]

MIN_VALUES = 5  # a series needs this many values: 4 changes to learn from
MIN_WIDTH = 0.01  # the narrowest half-width at one step ahead, in steps (step_error)
MIN_ERRORS = 30  # validation errors wanted per step; fewer series take more origins each
FORECAST_BATCH = 4096  # series whose forecasts are fed back together
REFIT_SHARE = 0.25  # the final fit continues from the validation members for this share of the updates,
REFIT_MIN_UPDATES = 200  # when there are at least this many (fewer: it starts again, as validation did)


@dataclass(frozen=True)
class AutoConfig:
    """Every setting of the automatic forecaster (the defaults were set on the development
    sets named in benchmarks/bench_forecast.py, and only there).

    hidden     units H of the LSTM            window   steps L of each training window (None:
                                              16, or two seasons when that is longer)
    members    models in the median (odd)     updates  Adam steps per member
    batch      windows per mini-batch (None: 128 from 16,384 windows on, else 256: members.batch_for)
    lr, clip   Adam's step size; gradient norm clip
    seed       the first member's seed (member k uses seed + k)
    losses     member k trains on losses[k % len(losses)]: "squared" or "absolute" error
    dampings   the φ that validation chooses from (0: no change, the naive forecast)
    weights    the weights of Theta's line that validation chooses from, with φ (0: the LSTM's alone)
    season     None: from the data (dates' frequency or autocorrelation); 1: no seasonality
    start      "scratch": the members are trained here, from their seeds; "pretrained": the
               shipped members (xl_lstm.forecasting.pretrained), not trained here at all
    """

    hidden: int = 16
    window: int | None = None
    members: int = 3
    updates: int = 400
    batch: int | None = None
    lr: float = 0.01
    clip: float = 1.0
    seed: int = 0
    losses: tuple[str, ...] = ("squared", "absolute")
    dampings: tuple[float, ...] = (1.0, 0.95, 0.9, 0.85, 0.8, 0.7, 0.0)
    weights: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75)
    season: int | None = None
    start: str = "scratch"

    def changed(self, **settings: Any) -> AutoConfig:
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise LSTMError(
                f"the forecaster has no setting {unknown[0]!r}; the settings are {', '.join(sorted(known))}"
            )
        return dataclasses.replace(self, **settings)

    def check(self) -> None:
        for name in ("hidden", "members", "updates"):
            check_whole(name, getattr(self, name), 1)
        if self.batch is not None:
            check_whole("batch", self.batch, 1, hint=" (None: from the number of windows)")
        if self.window is not None:
            check_whole("window", self.window, 1, hint=" (None: from the season)")
        check_whole("seed", self.seed, 0)
        if self.members % 2 == 0:
            raise LSTMError(f"members must be odd so the median is one member's forecast, got {self.members}")
        if isinstance(self.losses, str) or not isinstance(self.losses, (tuple, list)) or not self.losses:
            raise LSTMError(f"losses must be a tuple of losses, e.g. ('squared', 'absolute'), got {self.losses!r}")
        for loss in self.losses:
            check_loss(loss)
        if not self.dampings or any(not 0 <= float(p) <= 1 for p in self.dampings):
            raise LSTMError(f"dampings must be numbers in [0, 1], got {self.dampings!r}")
        if not self.weights or any(not 0 <= float(w) <= 1 for w in self.weights):
            raise LSTMError(f"weights must be numbers in [0, 1], got {self.weights!r}")
        for name in ("lr", "clip"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (math.isfinite(v) and v > 0):
                raise LSTMError(f"{name} must be a number > 0, got {v!r}")
        if self.season is not None:
            check_whole("season", self.season, 1, hint=" (1: no seasonality; None: from the data)")
        if self.start not in STARTS:
            raise LSTMError(f"start must be 'scratch' or 'pretrained', got {self.start!r}")
        if self.start == "pretrained":
            check_fits(self.hidden, self.members)


STARTS = ("scratch", "pretrained")


@dataclass(frozen=True)
class SeriesPrep:
    """How one series becomes the LSTM's inputs, and back (the module docstring's a, s, d, u)."""

    log: bool  # a = log y (else y / unit)
    unit: float  # mean |y| when not log, 1 when log
    season: int  # m, 1 when not seasonal
    indices: np.ndarray  # (m,) s_j, zeros when not seasonal
    sigma: float  # σ of the changes of d
    step_error: float  # mean |y_t - y_(t-1)|, the naive forecast's error: what errors are measured in
    theta: ThetaLine = ThetaLine(1.0, 0.0)  # Theta's line of d (α 1, no drift: the naive forecast)

    def deseasonalised(self, y: np.ndarray) -> np.ndarray:
        """d (n,): the series with its seasonal indices taken out (after the log or the unit)."""
        a = np.log(y) if self.log else y / self.unit
        return a - self.indices[np.arange(y.size) % self.season]

    def inputs(self, y: np.ndarray) -> np.ndarray:
        """u (n-1,): scaled changes of d."""
        return np.diff(self.deseasonalised(y)) / self.sigma

    def values(
        self, d_last: Any, u_hat: np.ndarray, n: Any, damping: Any, level: Any = 0.0, weight: Any = 0.0
    ) -> np.ndarray:
        """ŷ (..., h) from the LSTM's û (..., h) after n values whose last d is d_last and last
        smoothed level ``level``, Theta's line mixed in with ``weight``; d_last, n, damping,
        level and weight are numbers or arrays broadcast against û's leading axes (several
        origins, members, φ or weights at once)."""
        k = np.arange(1, u_hat.shape[-1] + 1)  # (h,)
        d = np.asarray(d_last)[..., None] + self.sigma * np.cumsum(np.asarray(damping)[..., None] ** k * u_hat, axis=-1)
        line = np.asarray(level)[..., None] + theta.theta_steps(self.theta, n, k.size)
        w = np.asarray(weight)[..., None]
        d = (1 - w) * d + w * line
        a = d + self.indices[(np.asarray(n)[..., None] + k - 1) % self.season]
        return np.exp(a) if self.log else a * self.unit


def series_prep(name: str, y: np.ndarray, season: int | None) -> SeriesPrep:
    """The transforms of one series; ``season`` None detects it, an explicit one is tested."""
    if y.size < MIN_VALUES:
        raise LSTMError(f"series {name!r} has {y.size} values; the forecaster needs at least {MIN_VALUES}")
    if np.all(y == y[0]):
        raise LSTMError(
            f"series {name!r} is constant (every value is {y[0]:g}): there is nothing to learn; leave it out"
        )
    log = takes_log(y, season or 1)
    unit = 1.0 if log else float(np.mean(np.abs(y)))
    a = np.log(y) if log else y / unit
    if season is None:
        m = detect_season(a, tuple(c for c in CANDIDATE_SEASONS if y.size >= 3 * c))
    else:
        if season > 1 and y.size < 2 * season + 1:
            raise LSTMError(
                f"series {name!r} has {y.size} values, too short for season {season} (needs {2 * season + 1}): "
                "give season=1, or a longer history"
            )
        m = season if season > 1 and is_seasonal(a, season) else 1
    indices = seasonal_indices(a, m) if m > 1 else np.zeros(1)
    d = a - indices[np.arange(y.size) % m]
    changes = np.diff(d)
    rms = float(np.sqrt(np.mean(changes**2)))
    sd = float(np.std(changes))
    sigma = (sd if sd > 1e-8 * rms else rms) or 1.0  # equal changes (a line): their size, so u = ±1
    step_error = float(np.mean(np.abs(np.diff(y)))) or 1.0
    return SeriesPrep(log, unit, m, indices, sigma, step_error, theta.theta_line(d))


# ---- training ------------------------------------------------------------------------------------
def _members(
    us: Sequence[np.ndarray],
    cfg: AutoConfig,
    on_epoch: Callable[[Epoch], None] | None,
    phase: str,
    start: tuple[LSTMParams, ...] | None = None,
) -> tuple[LSTMParams, ...]:
    """The ``cfg.members`` LSTMs (member k from seed cfg.seed + k), trained together: one phase
    for ``on_epoch`` ("validation: 3 members"), each epoch's loss the members' mean. From
    ``start`` (the validation members) they train for REFIT_SHARE of ``cfg.updates`` only."""
    groups = windows(us, cfg.window or 16)
    if not groups:
        raise LSTMError("no series is long enough to train on")
    n = cfg.members
    label = f"{phase}{n} member{'s' if n > 1 else ''}"

    def report(epoch: int, epochs: int, losses: np.ndarray) -> None:
        if on_epoch is not None:
            on_epoch(Epoch(epoch, epochs, float(np.mean(losses)), float("nan"), label))

    updates = None if start is None else math.ceil(cfg.updates * REFIT_SHARE)
    return train_members(groups, cfg, [cfg.seed + k for k in range(n)], report, TRAIN_DTYPE, start, updates)


def _median(prep: SeriesPrep, u_hat: np.ndarray, history: np.ndarray, damping: float, weight: float) -> np.ndarray:
    """ŷ (h,): the median of the members' forecasts from their û (members, h) after ``history``."""
    d = prep.deseasonalised(history)
    d_last, level = float(d[-1]), float(theta.levels(d, prep.theta.alpha)[-1])
    return np.median(prep.values(d_last, u_hat, history.size, damping, level, weight), axis=0)


# ---- the model -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AutoModel:
    """A trained forecaster: the global part (members, φ, validation errors) and the series it
    was fitted on (their histories and transforms). ``shared()`` drops the series: what a
    worker needs to forecast any series of its own with ``forecast_auto(model, series=...)``."""

    config: AutoConfig
    members: tuple[LSTMParams, ...]
    damping: float  # φ, chosen by validation
    histories: dict[str, np.ndarray]  # id -> (n,)
    preps: dict[str, SeriesPrep]
    errors: np.ndarray  # (origins, h_val) absolute scaled validation errors at φ and the weight, NaN where none
    scores: dict[tuple[float, float], float]  # (φ, weight) -> validation mean scaled error
    weight: float = 0.0  # Theta's line's weight, chosen by validation with φ
    chosen: str = ""  # describe()'s line, kept when the series are dropped

    def shared(self) -> AutoModel:
        """The model without its series' histories and transforms (small, to ship to workers)."""
        return dataclasses.replace(self, histories={}, preps={}, chosen=self.describe())

    @property
    def validated(self) -> int:
        """Steps ahead that the validation errors cover."""
        return int(self.errors.shape[1]) if self.errors.size else 0

    def describe(self) -> str:
        """What was chosen, in one line."""
        if not self.preps and self.chosen:
            return self.chosen
        n = len(self.preps)
        logs = sum(p.log for p in self.preps.values())
        seasons: dict[int, int] = {}
        for p in self.preps.values():
            if p.season > 1:
                seasons[p.season] = seasons.get(p.season, 0) + 1
        seas = ", ".join(f"season {m} for {c}" for m, c in sorted(seasons.items())) or "no season"
        chosen, plain = (self.damping, self.weight), (1.0, 0.0)
        score = " vs ".join(
            f"{self.scores[c]:.3f} at φ={c[0]:g}, weight {c[1]:g}"
            for c in dict.fromkeys([chosen, plain])
            if c in self.scores
        )
        return (
            f"{n} series: log for {logs}, {seas}; damping φ={self.damping:g}, Theta's line weight {self.weight:g} "
            f"(validation error {score}); {len(self.members)} {self._origin()}LSTMs H={self.config.hidden} in the median"
        )

    def _origin(self) -> str:
        return "pretrained " if self.config.start == "pretrained" else ""

    def __repr__(self) -> str:
        return f"AutoModel({self.describe()})"


def _as_dict(series: Any) -> dict[str, np.ndarray]:
    """One series, a list of them, or a mapping id -> series: each one column of finite numbers."""
    if isinstance(series, Mapping):
        items = [(str(k), v) for k, v in series.items()]
    elif isinstance(series, (list, tuple)) and series and not np.isscalar(series[0]):
        items = [(str(k), v) for k, v in enumerate(series)]
    else:
        items = [("series", series)]
    if not items:
        raise LSTMError("no series given")
    out = {}
    for name, v in items:
        y = finite_array(f"series {name!r}", getattr(v, "to_numpy", lambda v=v: v)(), np.dtype(np.float64))
        if y.ndim == 2 and 1 in y.shape:
            y = y.ravel()
        if y.ndim != 1:
            raise LSTMError(f"series {name!r} must be one column of numbers, got shape {y.shape}")
        out[name] = y
    return out


def _preps(ys: dict[str, np.ndarray], seasons: Mapping[str, int] | None, season: int | None) -> dict[str, SeriesPrep]:
    """Each series' transforms, its season from ``seasons``, else ``season`` (None: detected)."""
    return {k: series_prep(k, y, (seasons or {}).get(k, season)) for k, y in ys.items()}


def fit_auto(
    series: Any,
    horizon: int,
    config: AutoConfig | None = None,
    *,
    seasons: Mapping[str, int] | None = None,
    preps: Mapping[str, SeriesPrep] | None = None,
    on_epoch: Callable[[Epoch], None] | None = None,
    **settings: Any,
) -> AutoModel:
    """Train the forecaster on one series, a list, or a mapping id -> series, for forecasts of
        ``horizon`` steps (what validation measures). ``seasons`` gives a season per id (from
        their dates); otherwise ``config.season``, else detected; ``preps``: the series' transforms
    when the caller has made them already (``panels.screen``). ``on_epoch`` sees every epoch
        of the members' training, validation's first, each training a phase of its own
        (``Epoch.phase``: "validation: 3 members", then "fit: 3 members"), the loss the members' mean."""
    cfg = (config or AutoConfig()).changed(**settings)
    cfg.check()
    h = check_whole("horizon", horizon, 1, MAX_HORIZON)
    ys = _as_dict(series)
    preps = dict(preps) if preps is not None else _preps(ys, seasons, cfg.season)
    inputs = {k: p.inputs(ys[k]) for k, p in preps.items()}  # (n-1,) each
    window = cfg.window or max(16, 2 * max(p.season for p in preps.values()))
    batch = cfg.batch or batch_for(window_count([u.size for u in inputs.values()], window))
    cfg = cfg.changed(window=window, batch=batch)  # the model records what it was trained with
    pretrained = load_pretrained()[: cfg.members] if cfg.start == "pretrained" else None

    # validation: every series long enough loses its last values; origins per series so that
    # each step has about MIN_ERRORS errors (one origin each when there are enough series)
    shortest = {k: max(MIN_VALUES, 2 * p.season + 1) for k, p in preps.items()}  # what its transforms need
    long_enough = [k for k, y in ys.items() if y.size - h >= shortest[k]]
    origins = max(1, math.ceil(MIN_ERRORS / max(1, len(long_enough))))
    cut = {k: max(shortest[k], ys[k].size - h - origins + 1) for k in long_enough}
    val_preps = {k: series_prep(k, ys[k][: cut[k]], preps[k].season) for k in long_enough}

    errors, scores, damping, weight = np.zeros((0, h)), {}, 1.0, 0.0
    if long_enough:
        val_members = pretrained or _members(
            [val_preps[k].inputs(ys[k][: cut[k]]) for k in long_enough], cfg, on_epoch, "validation: "
        )
        errors_by = _validation_errors(val_members, val_preps, ys, cut, h, cfg.dampings, cfg.weights)
        scores = {c: float(np.nanmean(e)) for c, e in errors_by.items()}
        damping, weight = min(scores, key=lambda c: (scores[c], -c[0], c[1]))  # ties: less damping, less Theta
        errors = errors_by[damping, weight]
    members = pretrained or _members(
        list(inputs.values()),
        cfg,
        on_epoch,
        "fit: " if long_enough else "",
        val_members if long_enough and cfg.updates >= REFIT_MIN_UPDATES else None,
    )
    return AutoModel(cfg, members, damping, ys, preps, errors, scores, weight)


def _validation_errors(
    members: Sequence[LSTMParams],
    preps: dict[str, SeriesPrep],
    ys: dict[str, np.ndarray],
    cut: dict[str, int],
    h: int,
    dampings: Sequence[float],
    weights: Sequence[float],
) -> dict[tuple[float, float], np.ndarray]:
    """|y - ŷ| / step_error (origins, h) for each φ and weight, from every origin from cut to n - h."""
    grid = [(float(phi), float(w)) for phi in dampings for w in weights]
    phis, ws = (np.array([c[i] for c in grid])[:, None, None] for i in (0, 1))  # (C, 1, 1) each: against (members, O)
    # every origin of every series forecast in one batch: origin o's inputs are the first o-1
    # of the series' inputs up to its last origin (the transforms work value by value)
    origins = {k: np.arange(cut[k], ys[k].size - h + 1) for k in preps}  # cut ≤ n - h: h actuals after each
    runs = [(prep.inputs(ys[k][: origins[k][-1]]), origins[k] - 1) for k, prep in preps.items()]
    u_hats = member_steps(members, runs, h) if runs else np.zeros((len(members), 0, h))  # (members, origins, h)
    blocks, j = [], 0
    for k, prep in preps.items():
        y, o = ys[k], origins[k]  # o (O,)
        d = prep.deseasonalised(y[: o[-1]])
        d_last, level = d[o - 1], theta.levels(d, prep.theta.alpha)[o - 1]  # (O,) each, at each origin
        y_hat = prep.values(d_last, u_hats[None, :, j : j + o.size], o, phis, level, ws)  # (C, members, O, h)
        actual = y[o[:, None] + np.arange(h)]  # (O, h)
        blocks.append(np.abs(actual - np.median(y_hat, axis=1)) / prep.step_error)  # (C, O, h)
        j += o.size
    errors = np.concatenate(blocks, axis=1) if blocks else np.zeros((len(grid), 0, h))  # (C, origins, h)
    return {c: errors[i] for i, c in enumerate(grid)}


# ---- forecasting -------------------------------------------------------------------------------------
class AutoForecast(NamedTuple):
    forecasts: dict[str, ForecastResult]  # id -> mean, lower, upper (each (h,))
    notes: list[str]  # what a reader should know (e.g. intervals past the validated horizon)


def forecast_auto(
    model: AutoModel,
    horizon: int | None = None,
    levels: tuple[float, ...] = DEFAULT_LEVELS,
    *,
    series: Any = None,
    seasons: Mapping[str, int] | None = None,
    preps: Mapping[str, SeriesPrep] | None = None,
) -> AutoForecast:
    """Forecast ``horizon`` steps (default: the validated horizon), with intervals at ``levels``
    (fractions), for every fitted series, or for ``series`` (one, a list or a mapping id ->
    series, fitted or not: the global model applies to any; ``seasons`` as in ``fit_auto``)."""
    if not isinstance(model, AutoModel):
        raise LSTMError(f"model must be an AutoModel (from fit_auto), got {type(model).__name__}")
    if series is None:
        histories, preps = model.histories, model.preps
    else:
        histories = _as_dict(series)
        preps = preps if preps is not None else _preps(histories, seasons, model.config.season)
    h = check_whole("horizon", model.validated or 1 if horizon is None else horizon, 1, MAX_HORIZON)
    levels = check_levels(levels)
    widths = {q: interval_widths(model.errors, q, h) for q in levels}  # (h,) in units of step_error
    notes = []
    if not model.errors.size:
        notes.append("no series was long enough to validate on: the intervals are unknown (NaN)")
    elif h > model.validated:
        notes.append(
            f"intervals past step {model.validated} are extrapolated (√k growth): validation saw {model.validated} steps ahead"
        )
    out = {}
    names = list(histories)
    for b0 in range(0, len(names), FORECAST_BATCH):  # the series' forecasts fed back together, a batch at a time
        batch = names[b0 : b0 + FORECAST_BATCH]
        inputs = [preps[k].inputs(histories[k]) for k in batch]
        u_hats = member_steps(model.members, [(u, [u.size]) for u in inputs], h)  # (members, series, h)
        for j, k in enumerate(batch):
            out[k] = _result(preps[k], histories[k], u_hats[:, j], model.damping, model.weight, widths)
    return AutoForecast(out, notes)


def _result(
    prep: SeriesPrep, y: np.ndarray, u_hat: np.ndarray, damping: float, weight: float, widths: dict[float, np.ndarray]
) -> ForecastResult:
    """One series' forecast from the members' û (members, h), with its intervals."""
    mean = _median(prep, u_hat, y, damping, weight)
    return ForecastResult(
        mean,
        {q: mean - w * prep.step_error for q, w in widths.items()},
        {q: mean + w * prep.step_error for q, w in widths.items()},
    )


def interval_widths(errors: np.ndarray, level: float, horizon: int) -> np.ndarray:
    """Half-widths (h,) in units of each series' step_error: per step the split-conformal ``level`` quantile of the
    absolute errors (origins, h_val), non-decreasing in the step, √k growth past h_val; never under
    ``MIN_WIDTH`` · √k: validation's members fitted a straight line to 1e-4 of a step, and no
    refit in floating point by stochastic training is that precise again."""
    out = np.full(horizon, np.nan)
    if not errors.size:
        return out
    hv = errors.shape[1]
    q = np.full(hv, np.nan)
    for k in range(hv):
        col = errors[:, k][np.isfinite(errors[:, k])]
        if col.size:
            q[k] = np.quantile(col, min(1.0, math.ceil((col.size + 1) * level) / col.size))
    q = np.fmax.accumulate(np.fmax(q, MIN_WIDTH * np.sqrt(np.arange(1, hv + 1))))
    out[: min(hv, horizon)] = q[:horizon]
    if horizon > hv:
        out[hv:] = q[-1] * np.sqrt(np.arange(hv + 1, horizon + 1) / hv)
    return out
