"""The template workbook: weights, inputs and every gate per row, with and without Python.

``build_template`` makes an openpyxl Workbook; ``write_template`` saves it atomically
and reproducibly (fixed timestamps), so the committed ``workbooks/lstm_template.xlsx``
can be compared with what this code makes.

Sheets: Guide, Weights, Inputs, States (=LSTM_STEP per row), States (formulas) (the
same numbers from native spreadsheet formulas), Forecast, Charts, xlwings.conf.
The defined names in ``Layout.names`` are the contract that the batch refresh and
users' own workbooks rely on.

The model: the weights are trained on the history with the workbook recipe
(``contract.WORKBOOK_FIT``: seeded, whole history, a fixed number of epochs), as ``xl-lstm
fit`` does (``fit``, or ``fit_lagged`` for a template with lags, D>1); for the shipped
example they were trained once and are read from ``data/template_model.json``
(``example_model``), so the committed workbook is the same on every machine. With
``train_epochs=0`` they are ``init_params(D, H, seed)`` with a ridge least-squares head.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import textwrap
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from openpyxl import Workbook
from openpyxl.chart import LineChart, Reference, ScatterChart, Series
from openpyxl.chart.data_source import StrRef
from openpyxl.chart.series import SeriesLabel
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.formula import ArrayFormula

from ..core.checks import check_whole, finite_array
from ..core.errors import LSTMError
from ..core.files import atomic_write
from ..forecast.auto import AutoModel, SeriesPrep, interval_widths
from ..forecast.train import Epoch
from ..lstm.engine import run
from ..lstm.params import LSTMParams, init_params
from ..lstm.recursive import recursive_forecast
from ..tables.datasets import load_airpassengers
from ..tables.series_file import FREQUENCIES, SeriesFile, hold_out
from ..workbook.contract import WORKBOOK_FIT
from ..workbook.forecaster_book import BookForecaster
from .example_model import digits15, forecaster_model, trained_weights

__all__ = ["GATE_COLOURS", "Layout", "TemplateModel", "build_template", "template_model", "write_template"]

QUANTITIES = ("i", "f", "g", "C", "o", "h")  # the per-row order (DESIGN.md §2)
GATE_COLOURS = {  # one colour per quantity, used for headers, heat maps and chart lines
    "i": "1F77B4",  # input gate: blue
    "f": "FF7F0E",  # forget gate: orange
    "g": "2CA02C",  # candidate: green
    "C": "9467BD",  # cell state: purple
    "o": "D62728",  # output gate: red
    "h": "8C564B",  # hidden state: brown
}
ACTUAL_COLOUR, FORECAST_COLOUR = "000080", "17BECF"  # navy, teal
MAX_HIDDEN, MAX_INPUTS = 64, 12
TRAIN_EPOCHS = WORKBOOK_FIT.epochs  # the template's weights are trained, as xl-lstm fit does
FORECASTER_LEVELS = (0.8, 0.95)  # the forecaster's interval levels in a template
FIXED_TIME = "2026-01-01T00:00:00Z"  # docProps timestamps, so the file is reproducible
DASHES = ("solid", "dash", "sysDot", "dashDot", "lgDash", "sysDash", "lgDashDot", "sysDashDot")


def _tint(hex_colour: str, amount: float) -> str:
    """Mix a colour with white: amount 0 is the colour, 1 is white."""
    rgb = [int(hex_colour[k : k + 2], 16) for k in (0, 2, 4)]
    return "".join(f"{round(c + (255 - c) * amount):02X}" for c in rgb)


TINTS = {k: _tint(v, 0.55) for k, v in GATE_COLOURS.items()}  # light versions for headers and labels


# ---- the model the template ships with ------------------------------------------
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
MAX_CELLS = 2_000_000  # formula and value cells a template may hold; openpyxl builds ~100k a second


MIN_TEMPLATE_VALUES = 8  # steps of the shortest template: a few to train on, a few held out


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
    months: list[str]  # (T,) label of each step
    raw: np.ndarray  # (T, D) column d holds the series lagged by d steps
    center: np.ndarray  # (D,)
    scale: np.ndarray  # (D,)
    horizon: int  # the last `horizon` steps are held out as actuals
    season: int  # for MASE
    about: SeriesInfo = field(default_factory=lambda: AIRLINE)
    forecaster: BookForecaster | None = None  # xl_lstm.forecast.auto's forecaster of the history (one series only)

    @property
    def scaled(self) -> np.ndarray:  # (T, D)
        return (self.raw - self.center) / self.scale

    @property
    def history_steps(self) -> int:
        return self.raw.shape[0] - self.horizon


def template_model(
    hidden: int = 4,
    inputs: int = 1,
    steps: int | None = None,
    series: Any = None,
    seed: int = 0,
    train_epochs: int = TRAIN_EPOCHS,
    on_epoch: Callable[[Epoch], None] | None = None,
) -> TemplateModel:
    """The deterministic model and data of a template with H units, D inputs and T steps.

    ``series`` (a ``SeriesFile`` from ``read_series``: labels, name, frequency; a pandas
    Series, labels from its index; or any 1-D numbers) replaces the shipped airline
    passengers series. With ``train_epochs`` > 0 the weights are trained on the history
    with the workbook recipe, as ``xl-lstm fit`` trains them; otherwise they are the
    deterministic initialisation with a least-squares head.
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
    cells = T * (12 * H + 4 * D + 2)  # both States sheets and the Inputs sheet
    if cells > MAX_CELLS:
        raise LSTMError(
            f"a template of {T:,} steps with H={H} holds about {cells:,} cells, more than the "
            f"{MAX_CELLS:,} it builds; use --steps {MAX_CELLS // (12 * H + 4 * D + 2):,} or fewer, or fewer --hidden units"
        )
    first = D - 1  # series index of step 1
    raw = np.stack([values[first - d : first - d + T] for d in range(D)], axis=1)  # (T, D)
    months = labels[first : first + T]
    hist = raw[: T - horizon, 0]
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
    return TemplateModel(params, months, raw, center, scale, horizon, season, about, forecaster)


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
        float(digits15(prep.scale)),
    )
    members = tuple(
        LSTMParams(digits15(p.W), digits15(p.b), digits15(p.W_y), digits15(p.b_y))  # type: ignore[arg-type]
        for p in model.members
    )
    widths = np.stack([interval_widths(model.errors, q, horizon) for q in levels], axis=1)  # (n, L)
    return BookForecaster(members, rounded, float(digits15(model.damping)), digits15(widths), np.array(levels, float))


def _ridge_head(params: LSTMParams, x: np.ndarray, ridge: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares head predicting x_{t+1} from h_t over the history:  min ‖[h 1] w - x_next‖² + ridge‖w‖²."""
    h: np.ndarray = run(params, x, outputs="h").h  # type: ignore[assignment]  # (T, H)
    A = np.hstack([h[:-1], np.ones((len(h) - 1, 1))])  # (T-1, H+1)
    Y = x[1:]  # (T-1, D)
    w = np.linalg.solve(A.T @ A + ridge * np.eye(A.shape[1]), A.T @ Y)  # (H+1, D)
    return w[:-1].T, w[-1]  # (D, H), (D,)


# ---- where everything goes ------------------------------------------------------
def _ref(sheet: str, r0: int, c0: int, r1: int | None = None, c1: int | None = None, absolute: bool = True) -> str:
    """'Sheet'!$B$3:$F$18 (1-based rows and columns)."""
    d = "$" if absolute else ""
    a = f"{d}{get_column_letter(c0)}{d}{r0}"
    if r1 is not None and c1 is not None and (r1, c1) != (r0, c0):
        a += f":{d}{get_column_letter(c1)}{d}{r1}"
    return f"{quote_sheetname(sheet)}!{a}" if sheet else a


@dataclass(frozen=True)
class Layout:
    """Cell positions of every block, from H, D, T and the horizon (1-based rows/columns)."""

    H: int
    D: int
    T: int
    horizon: int
    names: dict[str, str] = field(default_factory=dict, compare=False)

    # Weights sheet
    @property
    def w_row(self) -> int:  # first row of W
        return 4

    @property
    def b_col(self) -> int:  # b sits one empty column right of W
        return 2 + self.H + self.D + 1

    @property
    def head_row(self) -> int:  # first row of W_y
        return self.w_row + 4 * self.H + 3

    @property
    def scaler_row(self) -> int:  # the center row; the scale row is below it
        return self.head_row + self.D + 3

    # Inputs sheet: t | month | raw (D) | scaled (D), one row per step from row 4
    first_row: int = 4

    @property
    def raw_col(self) -> int:
        return 3

    @property
    def x_col(self) -> int:
        return 3 + self.D

    # States sheets: t | x (D) | i f g C o h (H each); row 4 holds t = 0, steps from row 5
    @property
    def gate_col(self) -> int:
        return 2 + self.D

    def block_col(self, q: str) -> int:
        return self.gate_col + QUANTITIES.index(q) * self.H

    @property
    def state_row0(self) -> int:
        return 4

    def state_row(self, t: int) -> int:
        return self.state_row0 + t

    # Forecast sheet: native block k = 0..horizon-1 from row 5
    @property
    def fc_row0(self) -> int:
        return 5

    @property
    def fc_y_col(self) -> int:  # scaled head output, D columns, after t | x (D) | 6H gates
        return self.gate_col + 6 * self.H

    @property
    def fc_value_col(self) -> int:  # unscaled forecast, D columns
        return self.fc_y_col + self.D

    @property
    def fc_side_col(self) -> int:  # month | actual | LSTM_FORECAST (D)
        return self.fc_value_col + self.D + 1


# ---- native formulas, one function per equation --------------------------------
def _preactivation(lay: Layout, gate: int, unit: int, h_prev: str, x: str) -> str:
    """z = W_row · [h_{t-1}, x_t] + b_row, as two SUMPRODUCTs and the bias cell."""
    r = lay.w_row + gate * lay.H + unit
    w_h = _ref("Weights", r, 2, r, 1 + lay.H)
    w_x = _ref("Weights", r, 2 + lay.H, r, 1 + lay.H + lay.D)
    return f"SUMPRODUCT({w_h},{h_prev})+SUMPRODUCT({w_x},{x})+{_ref('Weights', r, lay.b_col)}"


def _sigmoid_f(z: str) -> str:
    return f"=1/(1+EXP(-({z})))"


def _tanh_f(z: str) -> str:
    return f"=TANH({z})"


def _cell_f(f: str, c_prev: str, i: str, g: str) -> str:
    return f"={f}*{c_prev}+{i}*{g}"


def _hidden_f(o: str, c: str) -> str:
    return f"={o}*TANH({c})"


def _native_row(ws: Any, lay: Layout, row: int, prev_row: int, x_range: str, prev_sheet: str = "") -> None:
    """Write i, f, g, C, o, h for one step as native formulas (prev row may be on another sheet)."""
    H = lay.H
    h_prev = _ref(prev_sheet, prev_row, lay.block_col("h"), prev_row, lay.block_col("h") + H - 1, absolute=False)
    for j in range(H):
        cell = {q: get_column_letter(lay.block_col(q) + j) + str(row) for q in QUANTITIES}
        c_prev = _ref(prev_sheet, prev_row, lay.block_col("C") + j, absolute=False)
        ws[cell["i"]] = _sigmoid_f(_preactivation(lay, 0, j, h_prev, x_range))
        ws[cell["f"]] = _sigmoid_f(_preactivation(lay, 1, j, h_prev, x_range))
        ws[cell["g"]] = _tanh_f(_preactivation(lay, 2, j, h_prev, x_range))
        ws[cell["C"]] = _cell_f(cell["f"], c_prev, cell["i"], cell["g"])
        ws[cell["o"]] = _sigmoid_f(_preactivation(lay, 3, j, h_prev, x_range))
        ws[cell["h"]] = _hidden_f(cell["o"], cell["C"])


# ---- styles ----------------------------------------------------------------------
BOLD, TITLE = Font(bold=True), Font(bold=True, size=14)
WRAP = Alignment(wrap_text=True, vertical="top")


def _fill(hex_colour: str) -> PatternFill:
    return PatternFill("solid", start_color=hex_colour, end_color=hex_colour)


def _title(ws: Any, text: str, note: str = "") -> None:
    ws["A1"] = text
    ws["A1"].font = TITLE
    if note:
        ws["A2"] = note
        ws["A2"].font = Font(italic=True, color="595959")


def _label(ws: Any, row: int, col: int, text: str) -> None:
    """A text cell that stays text: a label such as "=cmd|..." from the user's data is never a formula."""
    cell = ws.cell(row=row, column=col)
    cell.value = text
    cell.data_type = "s"


def _header(ws: Any, row: int, col: int, text: str, colour: str | None = None) -> None:
    cell = ws.cell(row=row, column=col, value=text)
    cell.font = BOLD
    cell.alignment = Alignment(horizontal="center")
    if colour:
        cell.fill = _fill(colour)


def _number_format(ws: Any, r0: int, c0: int, r1: int, c1: int, fmt: str) -> None:
    for row in ws.iter_rows(min_row=r0, max_row=r1, min_col=c0, max_col=c1):
        for cell in row:
            cell.number_format = fmt


def _fit_columns(ws: Any, header_row: int, minimum: float = 8.0) -> None:
    """Widen each column to show its header in full (bold text is about 1.2 characters a letter)."""
    for cell in ws[header_row]:
        if isinstance(cell.value, str) and not cell.value.startswith("="):
            letter = get_column_letter(cell.column)
            width = max(minimum, 1.2 * len(cell.value) + 2, ws.column_dimensions[letter].width or 0)
            ws.column_dimensions[letter].width = width


def _print_wide(ws: Any, landscape: bool = True) -> None:
    """Print (and render to PDF) one page wide, as many pages down as needed."""
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _name(wb: Workbook, lay: Layout, name: str, ref: str) -> None:
    wb.defined_names[name] = DefinedName(name, attr_text=ref)
    lay.names[name] = ref


# ---- the sheets ----------------------------------------------------------------------
GUIDE = """\
# What this workbook shows
An LSTM reads a series one step at a time and keeps two running vectors: a cell state C (its long-term memory) and a hidden state h (what it shows the next step and the output head). Each row of the States sheets is one time step; each column is one unit of one quantity.
# z = W · [h(t-1), x(t)] + b
Every gate starts from the same mix: the previous hidden state and this step's input, weighted by one block of rows of W (sheet Weights) plus a bias.
# i, the input gate = σ(z_i), between 0 and 1
How much of this step's new information is let into the memory. Near 0 the step is ignored; near 1 it is written in.
# f, the forget gate = σ(z_f), between 0 and 1
How much of the old memory is kept. Near 1 the cell carries its value forward unchanged; near 0 it is wiped.
# g, the candidate = tanh(z_g), between -1 and 1
The new information itself: what would be written into the memory if the input gate let it all in.
# C, the cell state = f × C(t-1) + i × g
Keep part of the old memory, add part of the new. Because this is a sum and not a product of squashed values, information (and, in training, the gradient) can travel across many steps.
# o, the output gate = σ(z_o), between 0 and 1
How much of the memory is shown outside the cell at this step.
# h, the hidden state = o × tanh(C)
The squashed memory, filtered by the output gate: it feeds the next step and the forecast head y = W_y · h + b_y.
# Experiments to try (sheet Weights, then watch States (formulas) and Charts)
Push the forget-gate biases (rows f1, f2, ... in column b) up to 5: f goes to 1 and C holds its value across the whole series. Push them to -5: C forgets at once and follows g.
Set the input-gate biases to -5: i goes to 0 and nothing new is written; C decays towards 0 at the pace of f.
Set the output-gate biases to -5: o goes to 0 and h goes flat even while C keeps changing.
Scale the x column of W up or down and watch the gates saturate at 0 or 1.
# The sheets
Weights: W split into the gate blocks i, f, g, o (rows) and the h and x columns, the bias b, the output head W_y, b_y, and the scaler that turns the series into the inputs x.
Inputs: {series} ({source}), one {period} per row, and the scaled inputs x = (value - center) / scale.
States: one row per step computed by =LSTM_STEP(x, h above, C above, lstm_W, lstm_b), an xlwings function. Row t = 0 holds the starting state (zeros).
States (formulas): the same numbers from native formulas only (SUMPRODUCT, EXP, TANH), so the workbook works and teaches without Python.
Forecast: the model warms up on the history, then each forecast is fed back as the next input. Native formulas and =LSTM_FORECAST side by side, the actuals of the held-out months, and the error metrics (native and =LSTM_METRICS).
Charts: the four gates, C and h, and the forecast against the actuals. One colour per quantity throughout: i blue, f orange, g green, C purple, o red, h brown.
{forecaster}# The model in this file
W, b, W_y and b_y were trained on the history (the months before the held-out ones) by xl_lstm's NumPy training (backpropagation through time and Adam, seed 0, 800 passes, the settings of xl-lstm fit) and are stored with xl_lstm, so this file holds the same numbers on every computer, never random ones. Training is repeatable for a seed on one computer; on another processor or maths library the same settings give weights that differ in the later digits and forecast about as well, so compare retrained models by their errors, not digit by digit. To retrain after changing the series, run xl-lstm fit BOOK.xlsx, or the lstm_fit script in xlwings Lite (a button in the task pane), or in classic xlwings a macro button with RunPython "import xl_lstm.scripts as s; s.lstm_fit_caller()".
# Turning on the functions (States, and the LSTM_ columns of Forecast)
Without Python those cells show #NAME?; everything else works. xl_lstm is not on PyPI: it installs from its wheel file (xl_lstm-VERSION-py3-none-any.whl), its folder or a git URL, as README's Installing xl_lstm says. Windows Excel with classic xlwings: python -m pip install the wheel file, then xlwings addin install; the sheet xlwings.conf already names the module (UDF Modules = xl_lstm.udfs); click Import Functions in the xlwings tab.
xlwings Lite (Windows, macOS, Excel on the web): in the Lite editor's requirements.txt add the web address of the wheel (a server that allows CORS), then in main.py import the functions: from xl_lstm.udfs import lstm_forecast, lstm_init, lstm_metrics, lstm_sequence, lstm_step (and from xl_lstm.scripts import lstm_fit for the training button).
# Defined names (Formulas > Name Manager)
{names}"""


FORECASTER_GUIDE = """\
# The forecaster: the forecast to use (sheets Forecaster model, Transforms, LSTM 1.., Forecaster)
The LSTM above is small so you can watch it. The forecaster is what xl_lstm forecasts with: from the history alone it chose logs (when every value is positive), seasonal indices (when the series is seasonal), and how much to damp the predicted changes (φ, by validation on the history's last months). Transforms turns the series into u, the scaled changes of the deseasonalised (log) series. Each LSTM k sheet runs one of the LSTMs over u and then feeds its own forecast back. Forecaster turns each LSTM's forecast back into values, takes their median, adds the 80% and 95% intervals (from errors on data the LSTMs had not seen), and compares the forecast and seasonal naive with the held-out actuals. Every cell is a native formula; under them a second table computes the same with the worksheet function LSTM_FORECAST (Python).
"""
GUIDE_LINE = 84  # characters per row of the Guide: lines are broken here, never by the spreadsheet's wrap


def _guide(wb: Workbook, lay: Layout, m: TemplateModel) -> None:
    """One paragraph of the guide over as many rows as it needs, each row one line of text.

    Wrapped cells are laid out by each program with its own fonts (and LibreOffice cut them
    off at the page's edge in PDF), so the lines are broken here and the column is wide enough
    for any of them; the sheet prints one page wide.
    """
    ws = wb.active
    ws.title = "Guide"
    ws.column_dimensions["A"].width = GUIDE_LINE + 12
    _title(ws, "xl_lstm: an LSTM you can watch, gate by gate")
    names = "\n".join(f"{n}: {ref}" for n, ref in lay.names.items())
    text = GUIDE.format(
        forecaster=FORECASTER_GUIDE if m.forecaster is not None else "",
        names=names,
        series=m.about.title.removeprefix("Inputs: "),
        source=m.about.note.removesuffix("."),
        period=m.about.period,
    )
    row = 3
    for paragraph in text.splitlines():
        heading = paragraph.startswith("# ")
        if heading and row > 3:
            row += 1  # a blank row before each heading
        for line in textwrap.wrap(paragraph[2:] if heading else paragraph, GUIDE_LINE, break_on_hyphens=False) or [""]:
            _label(ws, row, 1, line)  # text, even when a wrapped line starts with "="
            cell = ws.cell(row=row, column=1)
            if heading:
                cell.font = BOLD
            row += 1
    _print_wide(ws, landscape=False)


def _weights(wb: Workbook, lay: Layout, m: TemplateModel) -> None:
    ws = wb.create_sheet("Weights")
    H, D, p = lay.H, lay.D, m.params
    _title(
        ws,
        "Weights:  z = W · [h(t-1), x(t)] + b",
        "Rows: gate blocks i, f, g, o, one row per unit. Columns: h first, then x.",
    )
    r0 = lay.w_row
    _header(ws, r0 - 1, 1, "gate, unit")
    for j in range(H):
        _header(ws, r0 - 1, 2 + j, f"h{j + 1}")
    for d in range(D):
        _header(ws, r0 - 1, 2 + H + d, f"x{d + 1}")
    _header(ws, r0 - 1, lay.b_col, "b")
    for k, q in enumerate("ifgo"):
        for j in range(H):
            r = r0 + k * H + j
            label = ws.cell(row=r, column=1, value=f"{q}{j + 1}")
            label.fill, label.font = _fill(TINTS[q]), BOLD
            for c, v in enumerate(p.W[k * H + j], start=2):
                ws.cell(row=r, column=c, value=float(v))
            ws.cell(row=r, column=lay.b_col, value=float(p.b[k * H + j]))
    _number_format(ws, r0, 2, r0 + 4 * H - 1, lay.b_col, "0.0000")
    _name(wb, lay, "lstm_W", _ref("Weights", r0, 2, r0 + 4 * H - 1, 1 + H + D))
    _name(wb, lay, "lstm_b", _ref("Weights", r0, lay.b_col, r0 + 4 * H - 1, lay.b_col))

    hr = lay.head_row
    ws.cell(row=hr - 2, column=1, value="Output head:  y = W_y · h + b_y  (predicts the next scaled input)").font = BOLD
    _header(ws, hr - 1, 1, "output")
    for j in range(H):
        _header(ws, hr - 1, 2 + j, f"h{j + 1}")
    _header(ws, hr - 1, lay.b_col, "b_y")
    for d in range(D):
        ws.cell(row=hr + d, column=1, value=f"y{d + 1}").font = BOLD
        for j in range(H):
            ws.cell(row=hr + d, column=2 + j, value=float(p.W_y[d, j]))  # type: ignore[index]
        ws.cell(row=hr + d, column=lay.b_col, value=float(p.b_y[d]))  # type: ignore[index]
    _number_format(ws, hr, 2, hr + D - 1, lay.b_col, "0.0000")
    _name(wb, lay, "lstm_W_y", _ref("Weights", hr, 2, hr + D - 1, 1 + H))
    _name(wb, lay, "lstm_b_y", _ref("Weights", hr, lay.b_col, hr + D - 1, lay.b_col))

    sr = lay.scaler_row
    ws.cell(row=sr - 2, column=1, value="Scaler:  x = (value - center) / scale").font = BOLD
    for d in range(D):
        _header(ws, sr - 1, 2 + d, f"x{d + 1}")
    for k, (label, vec) in enumerate((("center", m.center), ("scale", m.scale))):
        ws.cell(row=sr + k, column=1, value=label).font = BOLD
        for d in range(D):
            ws.cell(row=sr + k, column=2 + d, value=float(vec[d])).number_format = "0.000"
    _name(wb, lay, "lstm_scaler", _ref("Weights", sr, 2, sr + 1, 1 + D))
    ws.column_dimensions["A"].width = 12
    ws.freeze_panes = ws.cell(row=r0, column=2)
    _print_wide(ws)


def _inputs(wb: Workbook, lay: Layout, m: TemplateModel) -> None:
    ws = wb.create_sheet("Inputs")
    D, r0 = lay.D, lay.first_row
    about = m.about
    _title(ws, about.title, f"{about.note} x = (value - center) / scale with the scaler on sheet Weights.")
    _header(ws, r0 - 1, 1, "t")
    _header(ws, r0 - 1, 2, about.period)
    for d in range(D):
        _header(ws, r0 - 1, lay.raw_col + d, about.name if d == 0 else f"lag {d}")
        _header(ws, r0 - 1, lay.x_col + d, f"x{d + 1}")
    center_row = lay.scaler_row
    for t in range(lay.T):
        r = r0 + t
        ws.cell(row=r, column=1, value=t + 1)
        _label(ws, r, 2, m.months[t])
        for d in range(D):
            ws.cell(row=r, column=lay.raw_col + d, value=float(m.raw[t, d]))
            raw = get_column_letter(lay.raw_col + d) + str(r)
            center = _ref("Weights", center_row, 2 + d)
            scale = _ref("Weights", center_row + 1, 2 + d)
            ws.cell(row=r, column=lay.x_col + d, value=f"=({raw}-{center})/{scale}").number_format = "0.0000"
    last = r0 + lay.T - 1
    _name(wb, lay, "lstm_series", _ref("Inputs", r0, lay.raw_col, last, lay.raw_col + D - 1))
    _name(wb, lay, "lstm_inputs", _ref("Inputs", r0, lay.x_col, last, lay.x_col + D - 1))
    _name(wb, lay, "lstm_history", _ref("Inputs", r0, lay.raw_col, last - lay.horizon, lay.raw_col + D - 1))
    _fit_columns(ws, r0 - 1)
    ws.column_dimensions["B"].width = max(10.0, 1.1 * max(len(t) for t in m.months) + 2)
    ws.freeze_panes = ws.cell(row=r0, column=3)
    _print_wide(ws, landscape=False)


def _states_header(ws: Any, lay: Layout) -> None:
    _header(ws, 3, 1, "t")
    for d in range(lay.D):
        _header(ws, 3, 2 + d, f"x{d + 1}")
    for q in QUANTITIES:
        c0 = lay.block_col(q)
        _header(
            ws,
            2,
            c0,
            {
                "i": "input gate i",
                "f": "forget gate f",
                "g": "candidate g",
                "C": "cell state C",
                "o": "output gate o",
                "h": "hidden state h",
            }[q],
            TINTS[q],
        )
        if lay.H > 1:
            ws.merge_cells(start_row=2, start_column=c0, end_row=2, end_column=c0 + lay.H - 1)
        for j in range(lay.H):
            _header(ws, 3, c0 + j, f"{q}{j + 1}", TINTS[q])
    # t = 0: the starting state, zeros
    r = lay.state_row0
    ws.cell(row=r, column=1, value=0)
    for q in ("C", "h"):
        for j in range(lay.H):
            ws.cell(row=r, column=lay.block_col(q) + j, value=0.0)


def _states_rows(ws: Any, lay: Layout, native: bool) -> None:
    H, D = lay.H, lay.D
    for t in range(1, lay.T + 1):
        r, prev = lay.state_row(t), lay.state_row(t - 1)
        ws.cell(row=r, column=1, value=t)
        for d in range(D):
            ws.cell(
                row=r, column=2 + d, value=f"={_ref('Inputs', lay.first_row + t - 1, lay.x_col + d, absolute=False)}"
            )
        x = _ref("", r, 2, r, 1 + D, absolute=False)
        if native:
            _native_row(ws, lay, r, prev, x)
        else:
            h_prev = _ref("", prev, lay.block_col("h"), prev, lay.block_col("h") + H - 1, absolute=False)
            c_prev = _ref("", prev, lay.block_col("C"), prev, lay.block_col("C") + H - 1, absolute=False)
            span = _ref("", r, lay.gate_col, r, lay.gate_col + 6 * H - 1, absolute=False)
            ws.cell(row=r, column=lay.gate_col).value = ArrayFormula(
                span, f"=LSTM_STEP({x},{h_prev},{c_prev},lstm_W,lstm_b)"
            )


def _heat_maps(ws: Any, lay: Layout, r0: int, r1: int) -> None:
    for q in QUANTITIES:
        c0 = lay.block_col(q)
        span = f"{get_column_letter(c0)}{r0}:{get_column_letter(c0 + lay.H - 1)}{r1}"
        ws.conditional_formatting.add(
            span,
            ColorScaleRule(
                start_type="min", start_color="FFFFFF", end_type="max", end_color=_tint(GATE_COLOURS[q], 0.35)
            ),
        )


def _states(wb: Workbook, lay: Layout, native: bool) -> None:
    name = "States (formulas)" if native else "States"
    ws = wb.create_sheet(name)
    how = (
        "Native formulas only: SUMPRODUCT, EXP, TANH. Works in any spreadsheet program, without Python."
        if native
        else "Each row: =LSTM_STEP(x, h of the row above, C of the row above, lstm_W, lstm_b), an array formula over 6H cells."
    )
    _title(ws, f"{name}: one row per time step", how)
    _states_header(ws, lay)
    _states_rows(ws, lay, native)
    r0, r1 = lay.state_row(1), lay.state_row(lay.T)
    _number_format(ws, r0, 2, r1, lay.gate_col + 6 * lay.H - 1, "0.0000")
    _heat_maps(ws, lay, r0, r1)
    block = _ref(name, r0, lay.gate_col, r1, lay.gate_col + 6 * lay.H - 1)
    inputs = _ref(name, r0, 2, r1, 1 + lay.D)
    if native:
        _name(wb, lay, "lstm_states_formulas", block)
        _name(wb, lay, "lstm_states_formulas_inputs", inputs)
    else:
        _name(wb, lay, "lstm_states", block)
        _name(wb, lay, "lstm_states_inputs", inputs)
        r = lay.state_row0
        _name(wb, lay, "lstm_h0", _ref(name, r, lay.block_col("h"), r, lay.block_col("h") + lay.H - 1))
        _name(wb, lay, "lstm_c0", _ref(name, r, lay.block_col("C"), r, lay.block_col("C") + lay.H - 1))
    ws.freeze_panes = ws.cell(row=r0 - 1, column=lay.gate_col)
    _print_wide(ws)


def _sum_product_head(lay: Layout, d: int, h_row: str) -> str:
    """y_d = W_y[d] · h + b_y[d]."""
    r = lay.head_row + d
    return f"SUMPRODUCT({_ref('Weights', r, 2, r, 1 + lay.H)},{h_row})+{_ref('Weights', r, lay.b_col)}"


def _forecast(wb: Workbook, lay: Layout, m: TemplateModel) -> None:
    ws = wb.create_sheet("Forecast")
    H, D, n = lay.H, lay.D, lay.horizon
    T_h = m.history_steps
    _title(
        ws,
        f"Forecast: {n} {m.about.period}s after the history (steps 1..{T_h}), against the held-out actuals",
        "Left: the recursion in native formulas (each forecast fed back as the next input). Right: the same with =LSTM_FORECAST.",
    )
    r0 = lay.fc_row0
    # native recursion: row k = 0 takes the warm state from States (formulas) at t = T_h
    _header(ws, r0 - 1, 1, "k")
    for d in range(D):
        _header(ws, r0 - 1, 2 + d, f"x{d + 1} fed back")
        _header(ws, r0 - 1, lay.fc_y_col + d, f"y{d + 1} (scaled)")
        _header(ws, r0 - 1, lay.fc_value_col + d, "forecast" if D == 1 else f"forecast {d + 1}")
    for q in QUANTITIES:
        for j in range(H):
            _header(ws, r0 - 1, lay.block_col(q) + j, f"{q}{j + 1}", TINTS[q])
    warm = lay.state_row(T_h)
    for k in range(n):
        r = r0 + k
        ws.cell(row=r, column=1, value=k)
        if k == 0:
            for q in ("C", "h"):
                for j in range(H):
                    src = _ref("States (formulas)", warm, lay.block_col(q) + j, absolute=False)
                    ws.cell(row=r, column=lay.block_col(q) + j, value=f"={src}")
        else:
            for d in range(D):
                ws.cell(row=r, column=2 + d, value=f"={get_column_letter(lay.fc_y_col + d)}{r - 1}")
            _native_row(ws, lay, r, r - 1, _ref("", r, 2, r, 1 + D, absolute=False))
        h_row = _ref("", r, lay.block_col("h"), r, lay.block_col("h") + H - 1, absolute=False)
        for d in range(D):
            y = get_column_letter(lay.fc_y_col + d) + str(r)
            ws.cell(row=r, column=lay.fc_y_col + d, value=f"={_sum_product_head(lay, d, h_row)}")
            center = _ref("Weights", lay.scaler_row, 2 + d)
            scale = _ref("Weights", lay.scaler_row + 1, 2 + d)
            ws.cell(row=r, column=lay.fc_value_col + d, value=f"={y}*{scale}+{center}")
    last = r0 + n - 1
    _number_format(ws, r0, 2, last, lay.fc_value_col - 1, "0.0000")
    _number_format(ws, r0, lay.fc_value_col, last, lay.fc_value_col + D - 1, "0.0")
    _name(wb, lay, "lstm_forecast_formulas", _ref("Forecast", r0, lay.fc_value_col, last, lay.fc_value_col + D - 1))
    _name(wb, lay, "lstm_forecast_steps", _ref("Forecast", r0, 2, last, lay.fc_value_col - 1))

    # side table: month | actual | LSTM_FORECAST
    s = lay.fc_side_col
    for c, text in enumerate((m.about.period, "actual", "LSTM_FORECAST"), start=s):
        _header(ws, r0 - 1, c, text)
    for k in range(n):
        r, t = r0 + k, T_h + k  # 0-based step index of the actual
        _label(ws, r, s, m.months[t])
        ws.cell(row=r, column=s + 1, value=f"={_ref('Inputs', lay.first_row + t, lay.raw_col, absolute=False)}")
    ws.cell(row=r0, column=s + 2).value = ArrayFormula(
        _ref("", r0, s + 2, last, s + 1 + D, absolute=False),
        "=LSTM_FORECAST(lstm_history,lstm_W,lstm_b,lstm_W_y,lstm_b_y,lstm_horizon,lstm_scaler)",
    )
    _number_format(ws, r0, s + 1, last, s + 1 + D, "0.0")
    _name(wb, lay, "lstm_actuals", _ref("Forecast", r0, s + 1, last, s + 1))
    _name(wb, lay, "lstm_forecast_udf", _ref("Forecast", r0, s + 2, last, s + 1 + D))

    # settings and metrics below the side table
    mr = last + 3
    ws.cell(row=mr, column=s, value="horizon").font = BOLD
    ws.cell(row=mr, column=s + 1, value=n)
    _name(wb, lay, "lstm_horizon", _ref("Forecast", mr, s + 1))
    ws.cell(row=mr + 1, column=s, value="season").font = BOLD
    ws.cell(row=mr + 1, column=s + 1, value=m.season)
    _name(wb, lay, "lstm_season", _ref("Forecast", mr + 1, s + 1))
    tr = mr + 3
    _header(ws, tr - 1, s, "metric")
    _header(ws, tr - 1, s + 1, "formulas")
    _header(ws, tr - 1, s + 2, "LSTM_METRICS")
    a = _ref("", r0, s + 1, last, s + 1)  # actual
    p = _ref("", r0, lay.fc_value_col, last, lay.fc_value_col)  # forecast (native)
    hist_first, hist_last = lay.first_row, lay.first_row + T_h - 1
    m_ = m.season
    lagged = _ref("Inputs", hist_first, lay.raw_col, hist_last - m_, lay.raw_col)
    later = _ref("Inputs", hist_first + m_, lay.raw_col, hist_last, lay.raw_col)
    native = {
        "MAE": f"=SUMPRODUCT(ABS({a}-{p}))/{n}",
        "RMSE": f"=SQRT(SUMPRODUCT(({a}-{p})^2)/{n})",
        "MAPE": f"=100*SUMPRODUCT(ABS({a}-{p})/ABS({a}))/{n}",
        "sMAPE": f"=100*SUMPRODUCT(2*ABS({a}-{p})/(ABS({a})+ABS({p})))/{n}",
        "MASE": f"={get_column_letter(s + 1)}{tr}/(SUMPRODUCT(ABS({later}-{lagged}))/{T_h - m_})",
    }
    for k, formula in enumerate(native.values()):
        ws.cell(row=tr + k, column=s + 1, value=formula).number_format = "0.000"
    ws.cell(row=tr, column=s + 2).value = ArrayFormula(
        _ref("", tr, s + 2, tr + 4, s + 3, absolute=False),
        f"=LSTM_METRICS(lstm_actuals,{_ref('', r0, s + 2, last, s + 2)},lstm_season,{_ref('Inputs', hist_first, lay.raw_col, hist_last, lay.raw_col)})",
    )
    for k, metric in enumerate(native):
        ws.cell(row=tr + k, column=s, value=metric + (" (%)" if "MAPE" in metric else "")).font = BOLD
    _name(wb, lay, "lstm_metrics_formulas", _ref("Forecast", tr, s + 1, tr + 4, s + 1))
    _name(wb, lay, "lstm_metrics_udf", _ref("Forecast", tr, s + 2, tr + 4, s + 3))
    _fit_columns(ws, r0 - 1)
    ws.column_dimensions[get_column_letter(s)].width = max(10.0, 1.1 * max(len(t) for t in m.months) + 2)
    ws.freeze_panes = ws.cell(row=r0, column=2)
    _print_wide(ws)


def _line_chart(title: str, y_title: str, y_range: tuple[float, float] | None = None) -> LineChart:
    """A line chart over a few labelled categories (the forecast's dates)."""
    chart = LineChart()
    _style(chart, title, y_title, y_range)
    chart.x_axis.tickLblSkip = chart.x_axis.tickMarkSkip = 1
    return chart


def _time_chart(title: str, y_title: str, y_range: tuple[float, float] | None, steps: int) -> ScatterChart:
    """Lines over t = 1..T on a numeric axis: spreadsheet programs space its labels themselves
    (a category axis over hundreds of steps printed them run together)."""
    chart = ScatterChart(scatterStyle="line")
    _style(chart, title, y_title, y_range)
    chart.x_axis.scaling.min, chart.x_axis.scaling.max = 0, steps
    chart.x_axis.majorUnit = _nice_step(steps / 8)
    chart.x_axis.numFmt = "0"
    return chart


def _nice_step(raw: float) -> float:
    """1, 2 or 5 times a power of ten, at least ``raw``."""
    power = 10.0 ** np.floor(np.log10(max(raw, 1.0)))
    return float(next(k * power for k in (1, 2, 5, 10) if k * power >= raw))


def _style(chart: Any, title: str, y_title: str, y_range: tuple[float, float] | None) -> None:
    chart.title, chart.y_axis.title, chart.x_axis.title = title, y_title, "t"
    chart.width, chart.height = 17, 7
    chart.legend.position = "r"
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.y_axis.numFmt = "0.0"
    chart.x_axis.tickLblPos = "low"  # labels under the plot, not on the zero line
    if y_range is not None:
        chart.y_axis.scaling.min, chart.y_axis.scaling.max = y_range


def _value_range(m: TemplateModel) -> tuple[float, float]:
    """The forecast chart's value axis: the held-out actuals and the forecast, padded; not from 0."""
    T_h = m.history_steps
    fc = recursive_forecast(m.params, m.raw[:T_h], m.horizon, m.center, m.scale)[:, 0]
    return axis_range(np.concatenate([m.raw[T_h:, 0], fc]))


def axis_range(values: np.ndarray, pad: float = 0.1) -> tuple[float, float]:
    """A value axis showing ``values``, padded by ``pad`` of their spread, rounded outwards to a readable number."""
    lo, hi = float(values.min()), float(values.max())
    margin = pad * (hi - lo) or pad * abs(hi) or 1.0
    step = 10.0 ** np.floor(np.log10(margin))
    return float(np.floor((lo - margin) / step) * step), float(np.ceil((hi + margin) / step) * step)


def _charts(wb: Workbook, lay: Layout, m: TemplateModel) -> None:
    ws = wb.create_sheet("Charts")
    _title(
        ws, "Charts: the gates, the memory and the forecast over time", "Data: sheets States (formulas) and Forecast."
    )
    src = wb["States (formulas)"]
    r0, r1 = lay.state_row(1), lay.state_row(lay.T)
    names = {"i": "Input gate i", "f": "Forget gate f", "g": "Candidate g", "o": "Output gate o"}
    anchors = iter(f"A{4 + 15 * k}" for k in range(8))
    for q, title in names.items():
        chart = _time_chart(title, q, (-1.0, 1.0) if q == "g" else (0.0, 1.0), lay.T)
        _add_units(chart, src, lay, q, r0, r1)
        ws.add_chart(chart, next(anchors))
    chart = _time_chart("Cell state C and hidden state h", "C, h", None, lay.T)
    _add_units(chart, src, lay, "C", r0, r1)
    _add_units(chart, src, lay, "h", r0, r1)
    ws.add_chart(chart, next(anchors))

    fc = wb["Forecast"]
    s, f0, f1 = lay.fc_side_col, lay.fc_row0, lay.fc_row0 + lay.horizon - 1
    chart = _line_chart("Forecast against the actuals", m.about.unit, _value_range(m))
    chart.x_axis.title = m.about.period
    chart.y_axis.numFmt = "General"
    for col, colour in ((s + 1, ACTUAL_COLOUR), (lay.fc_value_col, FORECAST_COLOUR)):
        _add_line(chart, fc, col, f0 - 1, f0, f1, colour, "solid", 28575)
    chart.set_categories(Reference(fc, min_col=s, min_row=f0, max_row=f1))
    ws.add_chart(chart, next(anchors))
    _print_wide(ws, landscape=False)


def _add_units(chart: ScatterChart, src: Any, lay: Layout, q: str, r0: int, r1: int) -> None:
    """One line per unit of quantity q over t (column A), in q's colour, told apart by dash style."""
    t = Reference(src, min_col=1, min_row=r0, max_row=r1)
    for j in range(lay.H):
        _add_line(chart, src, lay.block_col(q) + j, 3, r0, r1, GATE_COLOURS[q], DASHES[j % len(DASHES)], x=t)


def _add_line(
    chart: Any,
    ws: Any,
    col: int,
    title_row: int,
    r0: int,
    r1: int,
    colour: str,
    dash: str,
    width: int = 19050,
    x: Reference | None = None,
) -> None:
    """A series of rows r0..r1 of column col (over x, for a scatter chart), named by the header cell at title_row."""
    series = Series(Reference(ws, min_col=col, min_row=r0, max_row=r1), x)
    series.tx = SeriesLabel(strRef=StrRef(_ref(ws.title, title_row, col)))
    series.graphicalProperties.line.solidFill = colour
    series.graphicalProperties.line.dashStyle = dash
    series.graphicalProperties.line.width = width
    series.smooth = False
    series.marker.symbol = "none"
    chart.series.append(series)


def _conf(wb: Workbook) -> None:
    ws = wb.create_sheet("xlwings.conf")
    ws["A1"], ws["B1"] = "UDF Modules", "xl_lstm.udfs"


def build_template(
    hidden: int = 4,
    inputs: int = 1,
    steps: int | None = None,
    series: Any = None,
    seed: int = 0,
    train_epochs: int = TRAIN_EPOCHS,
    on_epoch: Callable[[Epoch], None] | None = None,
) -> tuple[Workbook, Layout]:
    """The template workbook for H units, D inputs and T steps, and where its blocks are."""
    m = template_model(hidden, inputs, steps, series, seed, train_epochs, on_epoch)
    lay = Layout(m.params.hidden_size, m.params.input_size, m.raw.shape[0], m.horizon)
    wb = Workbook()
    guide = wb.active
    _weights(wb, lay, m)
    _inputs(wb, lay, m)
    _states(wb, lay, native=False)
    _states(wb, lay, native=True)
    _forecast(wb, lay, m)
    _charts(wb, lay, m)
    if m.forecaster is not None:
        from .forecaster_sheets import add_forecaster_sheets  # it builds on this module's helpers

        add_forecaster_sheets(wb, lay, m, m.forecaster)
    _conf(wb)
    wb.active = guide  # type: ignore[assignment]
    _guide(wb, lay, m)  # last, so it can list every defined name
    wb.properties.creator = "xl_lstm"
    return wb, lay


# ---- reproducible, atomic writing ------------------------------------------------
def _reproducible(data: bytes) -> bytes:
    """The same bytes for the same workbook: fixed timestamps in docProps and in the zip."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + FIXED_TIME.encode(), body)
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)), body, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def template_bytes(
    hidden: int = 4,
    inputs: int = 1,
    steps: int | None = None,
    series: Any = None,
    seed: int = 0,
    train_epochs: int = TRAIN_EPOCHS,
    on_epoch: Callable[[Epoch], None] | None = None,
) -> bytes:
    """The template as .xlsx bytes, with every formula's value already stored.

    The stored values come from the batch refresh, so a reader that does not
    recalculate (pandas, LibreOffice's default, Excel without the add-in opening a
    refreshed copy) sees numbers; ``fullCalcOnLoad`` is off, since nothing is stale.
    """
    wb, _ = build_template(hidden, inputs, steps, series, seed, train_epochs, on_epoch)
    wb.calculation.fullCalcOnLoad = False
    buf = io.BytesIO()
    wb.save(buf)
    return _reproducible(_with_values(buf.getvalue()))


def _with_values(data: bytes) -> bytes:
    from ..workbook.refresh import refresh_file  # the refresh reads and writes the package without openpyxl

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "template.xlsx"
        path.write_bytes(data)
        refresh_file(path)
        return path.read_bytes()


def check_target(path: Path, force: bool) -> None:
    """Refuse a target before any work: not .xlsx, a missing folder, an existing file without
    ``force``, or a file open in Excel (its ``~$`` lock file beside it)."""
    if path.suffix.lower() != ".xlsx":
        raise LSTMError(f"{path}: the template is an .xlsx workbook; give a name ending in .xlsx")
    if not path.parent.is_dir():
        raise LSTMError(f"{path}: folder {path.parent} does not exist")
    lock = path.with_name("~$" + path.name)
    if lock.exists():
        raise LSTMError(f"{path}: is open in Excel (lock file {lock.name}); close it first")
    if path.exists() and not force:
        raise LSTMError(f"{path} already exists; use --force to replace it")
    if path.is_dir():
        raise LSTMError(f"{path}: is a folder")


def write_template(
    path: str | os.PathLike[str],
    hidden: int = 4,
    inputs: int = 1,
    steps: int | None = None,
    *,
    force: bool = False,
    seed: int = 0,
    series: Any = None,
    train_epochs: int = TRAIN_EPOCHS,
    on_epoch: Callable[[Epoch], None] | None = None,
) -> Path:
    """Write a fresh template to ``path`` (.xlsx) atomically; refuse to overwrite unless ``force``.

    Every check on the path comes before the work (training, building, refreshing).
    """
    path = Path(path)
    check_target(path, force)
    data = template_bytes(hidden, inputs, steps, series, seed, train_epochs, on_epoch)
    atomic_write(path, lambda fh: fh.write(data))
    return path


def zip_members(data: bytes) -> dict[str, bytes]:
    """Every member of an xlsx by name: what 'the same workbook' means in the tests."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}
