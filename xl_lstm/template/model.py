"""The model a template shows: its series, its weights and the forecaster of its history.

The weights are trained on the history with the workbook recipe (``contract.WORKBOOK_FIT``:
seeded, whole history, a fixed number of epochs), as ``xl-lstm fit`` does (``fit``, or
``fit_lagged`` for a template with lags, D>1); for the shipped example they were trained once
and are read from ``data/template_model.json`` (``example_model``), so the committed workbook
is the same on every machine. With ``train_epochs=0`` they are ``init_params(D, H, seed)``
with a ridge least-squares head.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.checks import check_whole, finite_array
from ..core.errors import LSTMError
from ..core.limits import DEFAULT_LEVELS
from ..forecasting.auto import AutoConfig, AutoModel, SeriesPrep, interval_widths
from ..forecasting.theta import ThetaLine
from ..forecasting.train import Epoch
from ..lstm.engine import run
from ..lstm.params import LSTMParams, init_params
from ..tables.datasets import load_airpassengers
from ..tables.series_file import FREQUENCIES, SeriesFile, hold_out
from ..workbook.contract import WORKBOOK_FIT, WorkbookModel, workbook_epochs
from ..workbook.forecaster_book import BookForecaster
from .example_model import digits15, forecaster_model, trained_weights

__all__ = [
    "AIRLINE",
    "TRAIN_EPOCHS",
    "SeriesInfo",
    "TemplateModel",
    "book_forecaster",
    "template_model",
    "step_cells",
    "template_steps",
    "workbook_model",
]

MAX_HIDDEN, MAX_INPUTS = 64, 12
TRAIN_EPOCHS = (
    WORKBOOK_FIT.epochs
)  # the shipped template's passes (workbook_epochs of its 132 months), as xl-lstm fit trains
FORECASTER_LEVELS = DEFAULT_LEVELS  # the forecaster's interval levels in a template: 80% and 95%
# Cells a template may hold (``step_cells`` per step, counted before any training, as openpyxl
# holds them: formulas, values and the formatted cells that =LSTM_STEP and =LSTM_SEQUENCE fill):
# openpyxl keeps every cell of the book as a Python object until it is saved. Measured peaks
# (resident, the whole build): H=4 with the forecaster (648 cells a step), 144 steps 183 MiB,
# 576 steps 357 MiB, 1,440 steps (930,000 cells) 703 MiB; H=16, D=2 (no forecaster, 204 a
# step), 500 steps 186 MiB, 2,000 steps 400 MiB, 4,950 steps (999,900 cells) 812 MiB: 0.6-0.75
# KB a cell over ~130 MiB, so 1,000,000 cells stay under 1 GB (1,543 steps at H=4). Most of
# the time is the forecaster's training.
MAX_CELLS = 1_000_000
MIN_TEMPLATE_VALUES = 8  # steps of the shortest template: a few to train on, a few held out


@dataclass(frozen=True)
class SeriesInfo:
    """What the sheets say about the data: its name, title, source and what a step is."""

    name: str  # the column's header, e.g. "passengers"
    title: str  # the Inputs sheet's title
    note: str  # the line under it: where the data came from
    period: str  # "month", "quarter", "step": headers and axis titles
    unit: str  # the forecast chart's value axis


AIRLINE = SeriesInfo(
    "passengers",
    "Inputs: monthly international airline passengers (thousands)",
    "Source: Box & Jenkins, Time Series Analysis, series G (1949-1960), public domain.",
    "month",
    "passengers (thousands)",
)


def template_steps(series: Any, values: int, inputs: int, steps: int | None) -> tuple[int, int, int]:
    """(T, season, horizon) of a template over ``values`` values of ``series`` (None: the shipped
    airline series) with ``inputs`` columns: each step needs inputs - 1 earlier values as lags;
    a ``SeriesFile`` holds out by its dates' frequency, the airline series by months, and other
    numbers by a monthly guess."""
    available = values - (inputs - 1)
    if values < MIN_TEMPLATE_VALUES or available < MIN_TEMPLATE_VALUES:
        where = series.source if isinstance(series, SeriesFile) else "the series"
        lags = f" after {inputs - 1} lags (--inputs {inputs})" if inputs > 1 else ""
        raise LSTMError(
            f"{where}: {values} values{lags}; a template needs at least {MIN_TEMPLATE_VALUES} steps "
            "(it trains on the first ones and scores its forecast on the last)"
        )
    T = available if steps is None else check_whole("steps", steps, MIN_TEMPLATE_VALUES, available)
    if isinstance(series, SeriesFile):
        return (T, *hold_out(series.frequency, T))
    if series is None:
        return (T, *hold_out(FREQUENCIES["M"], T))
    horizon = 12 if T >= 48 else max(2, T // 4)
    return T, (12 if T - horizon > 24 else 1), horizon


def step_cells(H: int, D: int) -> int:
    """The cells a template holds per step, known before any training: Inputs (t, label, D values, D
    scaled), both States sheets (t, D inputs, 6H); for one series (D = 1) the forecaster's too, with
    ``AutoConfig``'s K members of H_f units: Transforms (t, label, y, a, s, d, u) and each LSTM k sheet
    (step, u, 6H_f, y). The LSTM_SEQUENCE blocks are one array formula each; the refresh streams their values."""
    cells = (2 + 2 * D) + 2 * (1 + D + 6 * H)
    if D == 1:
        config = AutoConfig()
        cells += 7 + config.members * (12 * config.hidden + 3)
    return cells


def _series_info(series: Any) -> SeriesInfo:
    if isinstance(series, SeriesFile):
        return SeriesInfo(
            series.name, f"Inputs: {series.name}", f"Source: {series.source}.", series.frequency.period, series.name
        )
    name = str(getattr(series, "name", None) or "value")
    return SeriesInfo(name, f"Inputs: {name}", "Source: the series given to xl_lstm.template.build.", "step", name)


@dataclass(frozen=True)
class TemplateModel:
    """Everything the template shows, computed in Python (the tests' reference too)."""

    params: LSTMParams  # W (4H, H+D), b, head W_y (D, H), b_y (D,)
    labels: list[str]  # (T,) label of each step: a month, a day, a quarter, a step
    raw: np.ndarray  # (T, D) column d holds the series lagged by d steps
    center: np.ndarray  # (D,)
    scale: np.ndarray  # (D,)
    horizon: int  # the last `horizon` steps are held out as actuals
    season: int  # for MASE
    about: SeriesInfo = field(default_factory=lambda: AIRLINE)
    forecaster: BookForecaster | None = None  # xl_lstm.forecasting.auto's forecaster of the history (one series only)

    @property
    def scaled(self) -> np.ndarray:  # (T, D)
        return (self.raw - self.center) / self.scale

    @property
    def history_steps(self) -> int:
        return self.raw.shape[0] - self.horizon


def workbook_model(m: TemplateModel) -> WorkbookModel:
    """The LSTM and data a template holds, as ``contract.read_model`` reads them back from its cells."""
    return WorkbookModel(m.params, m.center, m.scale, m.raw, m.raw[: m.history_steps], m.horizon, m.season)


def template_model(
    hidden: int = 4,
    inputs: int = 1,
    steps: int | None = None,
    series: Any = None,
    seed: int = 0,
    train_epochs: int | None = None,
    on_epoch: Callable[[Epoch], None] | None = None,
) -> TemplateModel:
    """The deterministic model and data of a template with H units, D inputs and T steps.

    ``series`` (a ``SeriesFile`` from ``read_series``: labels, name, frequency; a pandas
    Series, labels from its index; or any 1-D numbers) replaces the shipped airline
    passengers series. The weights are trained on the history with the workbook recipe, as
    ``xl-lstm fit`` trains them, for ``train_epochs`` passes (None: ``workbook_epochs`` of the
    history); with ``train_epochs=0`` they are the deterministic initialisation with a
    least-squares head.
    """
    about = AIRLINE if series is None else _series_info(series)
    if series is None:
        series = load_airpassengers()
    if isinstance(series, SeriesFile):
        labels, values = list(series.labels), series.values
    else:
        labels = [str(p) for p in getattr(series, "index", range(1, len(series) + 1))]
        values = finite_array("series", np.asarray(series), np.dtype(np.float64))
    if values.ndim != 1:
        raise LSTMError(f"series must be one column of numbers, got an array of shape {values.shape}")
    values = digits15(values)  # what a spreadsheet keeps: the sheet and the engine see the same numbers
    H = check_whole("hidden", hidden, 1, MAX_HIDDEN)
    D = check_whole("inputs", inputs, 1, MAX_INPUTS)
    T, season, horizon = template_steps(None if about is AIRLINE else series, len(values), D, steps)
    per_step = step_cells(H, D)
    if T * per_step > MAX_CELLS:
        raise LSTMError(
            f"a template of {T:,} steps with H={H} holds about {T * per_step:,} cells, more than the {MAX_CELLS:,} it "
            f"builds within 1 GB of memory; use --steps {MAX_CELLS // per_step} or fewer, or fewer --hidden units"
        )
    first = D - 1  # series index of step 1
    raw = np.stack([values[first - d : first - d + T] for d in range(D)], axis=1)  # (T, D)
    labels = labels[first : first + T]
    hist = raw[: T - horizon, 0]
    if train_epochs is None:
        train_epochs = workbook_epochs(hist.size)
    if train_epochs > 0:  # the workbook recipe: stored for the shipped example, else trained now
        trained = trained_weights(hist if D == 1 else raw[: T - horizon], H, train_epochs, seed, on_epoch)
        center, scale = trained.center, trained.scale
        W, b, W_y, b_y = trained.params.W, trained.params.b, trained.params.W_y, trained.params.b_y
    else:  # untrained (train_epochs=0): the scaler, the initialisation and a least-squares head
        center, scale = digits15(np.full(D, hist.mean())), digits15(np.full(D, hist.std()))
        base = init_params(D, H, seed=seed)
        W, b = base.W, base.b
        W_y, b_y = _ridge_head(base, (raw[: T - horizon] - center) / scale)
    params = LSTMParams(digits15(W), digits15(b), digits15(W_y), digits15(b_y))  # type: ignore[arg-type]
    forecaster = None
    if D == 1:  # the forecaster of the history: stored for the shipped example, else trained now
        known = season > 1 and hist.size >= 2 * season + 1  # the frequency's season, when the history can show it
        auto = forecaster_model(hist, horizon, season if known else None, on_epoch)
        forecaster = book_forecaster(auto, horizon, FORECASTER_LEVELS)
    return TemplateModel(params, labels, raw, center, scale, horizon, season, about, forecaster)


def book_forecaster(model: AutoModel, horizon: int, levels: tuple[float, ...]) -> BookForecaster:
    """What a template holds of a model fitted on one series: rounded to 15 digits."""
    if len(model.preps) != 1:
        raise LSTMError(f"a workbook holds the forecaster of one series; this one was fitted on {len(model.preps)}")
    (prep,) = model.preps.values()
    rounded = SeriesPrep(
        prep.log,
        float(digits15(prep.unit)),
        prep.season,
        digits15(prep.indices),
        float(digits15(prep.sigma)),
        float(digits15(prep.step_error)),
        ThetaLine(*(float(digits15(v)) for v in prep.theta)),
    )
    members = tuple(
        LSTMParams(digits15(p.W), digits15(p.b), digits15(p.W_y), digits15(p.b_y))  # type: ignore[arg-type]
        for p in model.members
    )
    widths = np.stack([interval_widths(model.errors, q, horizon) for q in levels], axis=1)  # (n, L)
    return BookForecaster(
        members,
        rounded,
        float(digits15(model.damping)),
        digits15(widths),
        np.array(levels, float),
        float(digits15(model.weight)),
    )


def _ridge_head(params: LSTMParams, x: np.ndarray, ridge: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares head predicting x_{t+1} from h_t over the history:  min ‖[h 1] w - x_next‖² + ridge‖w‖²."""
    h: np.ndarray = run(params, x, outputs="h").h  # type: ignore[assignment]  # (T, H)
    A = np.hstack([h[:-1], np.ones((len(h) - 1, 1))])  # (T-1, H+1)
    Y = x[1:]  # (T-1, D)
    w = np.linalg.solve(A.T @ A + ridge * np.eye(A.shape[1]), A.T @ Y)  # (H+1, D)
    return w[:-1].T, w[-1]  # (D, H), (D,)
