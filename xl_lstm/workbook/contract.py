"""The workbook contract: the defined names a workbook holds an LSTM under, and the one
way a model is read out of a workbook and written back (training into one: ``fit``).

Every part that knows the workbook's layout goes through here: the template writes
these names, the batch refresh reads the inputs and fills the outputs, ``xl-lstm fit``,
the demo and the xlwings button train with ``WORKBOOK_FIT``. Names are never equal to
a worksheet function's name (``lstm_forecast`` once was, and LibreOffice showed Err:509
in every cell that called ``LSTM_FORECAST``); workbooks made under the former names are
still read and refreshed.

A workbook is anything that hands over named ranges as numbers (``NamedRanges``): the
byte-exact reader ``xlsx.Book``, an open xlwings ``Book`` (``XlwingsNames``), or any object
with ``numbers(name)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..core.errors import LSTMError
from ..core.limits import MAX_HORIZON, SHEET_ROWS
from ..forecasting.train import FitConfig, Model
from ..lstm.params import LSTMParams

if TYPE_CHECKING:
    from .xlsx import CellRange

__all__ = [
    "FORMER_NAMES",
    "INPUT_NAMES",
    "KEPT_NAMES",
    "TRAINED_NAMES",
    "MAX_STEPS",
    "NAMES",
    "OUTPUT_NAMES",
    "WORKBOOK_FIT",
    "WORKBOOK_STEPS",
    "NamedRanges",
    "WorkbookModel",
    "XlwingsNames",
    "book_name",
    "model_blocks",
    "read_model",
    "workbook_epochs",
]

# name -> (shape in H units, D inputs, T steps, n held out; what it holds). README lists the same table.
NAMES: dict[str, tuple[str, str]] = {
    "lstm_W": ("4H × (H+D)", "weights, row blocks i, f, g, o; h columns, then x"),
    "lstm_b": ("4H × 1", "bias"),
    "lstm_W_y": ("D × H", "output head, predicts the next scaled input"),
    "lstm_b_y": ("D × 1", "output head's bias"),
    "lstm_scaler": ("2 × D", "center (first row) and scale (second row)"),
    "lstm_series": ("T × D", "raw values (column d: the series lagged by d steps)"),
    "lstm_history": ("(T−n) × D", "the raw values the forecast starts from"),
    "lstm_horizon": ("1 × 1", "forecast horizon n"),
    "lstm_season": ("1 × 1", "season length for MASE"),
    "lstm_h0": ("1 × H", "starting hidden state (zeros)"),
    "lstm_c0": ("1 × H", "starting cell state (zeros)"),
    "lstm_inputs": ("T × D", "scaled inputs x"),
    "lstm_states_inputs": ("T × D", "x as the States sheet reads it"),
    "lstm_states_formulas_inputs": ("T × D", "x as States (formulas) reads it"),
    "lstm_states": ("T × 6H", "i | f | g | C | o | h per step from LSTM_STEP"),
    "lstm_states_formulas": ("T × 6H", "the same from native formulas"),
    "lstm_forecast_udf": ("n × D", "the forecast from LSTM_FORECAST"),
    "lstm_forecast_formulas": ("n × D", "the forecast from native formulas"),
    "lstm_forecast_steps": ("n × (2D+6H)", "the native recursion: x fed back, gates and states, y per step"),
    "lstm_actuals": ("n × 1", "held-out actual values"),
    "lstm_metrics_udf": ("5 × 2", "LSTM_METRICS: MAE, RMSE, MAPE, sMAPE, MASE"),
    "lstm_metrics_formulas": ("5 × 1", "the same metrics from native formulas"),
}
INPUT_NAMES = (
    "lstm_W",
    "lstm_b",
    "lstm_W_y",
    "lstm_b_y",
    "lstm_scaler",
    "lstm_series",
    "lstm_history",
    "lstm_horizon",
    "lstm_season",
)
OUTPUT_NAMES = (
    "lstm_inputs",
    "lstm_states_inputs",
    "lstm_states_formulas_inputs",
    "lstm_states",
    "lstm_states_formulas",
    "lstm_forecast_udf",
    "lstm_forecast_formulas",
    "lstm_forecast_steps",
    "lstm_actuals",
    "lstm_metrics_udf",
    "lstm_metrics_formulas",
)
TRAINED_NAMES = ("lstm_W", "lstm_b", "lstm_W_y", "lstm_b_y", "lstm_scaler")  # what training writes (model_blocks)
# Every name the refresh never computes: what the model is read from (INPUT_NAMES) and what
# only the sheets read (lstm_h0, lstm_c0). No block written may cover one of their cells.
KEPT_NAMES = tuple(n for n in NAMES if n not in OUTPUT_NAMES)
FORMER_NAMES = {"lstm_forecast_udf": "lstm_forecast", "lstm_metrics_udf": "lstm_metrics"}  # until 0.2

# The one training recipe for workbooks: the template's shipped weights, xl-lstm fit, the
# demo and the xlwings button all train this way (H comes from the workbook's lstm_W). The
# workbook holds its own test (the months after lstm_history), so the whole history trains,
# with no validation tail, for a fixed number of epochs: ``workbook_epochs`` of the history.
WORKBOOK_FIT = FitConfig(epochs=800, val_fraction=0.0)
WORKBOOK_STEPS = 800 * 132  # the steps a workbook trains on: 800 passes over the airline's 132 months
MIN_WORKBOOK_EPOCHS = 100


def workbook_epochs(steps: int) -> int:
    """The recipe's passes over a history of ``steps`` steps: ``WORKBOOK_FIT.epochs`` (800) up to
    132 steps, fewer over a longer one so that every workbook trains on about the same
    ``WORKBOOK_STEPS`` steps, and never fewer than ``MIN_WORKBOOK_EPOCHS`` (a pass costs
    time in proportion to its steps: 800 passes over 514 months took 4 times the airline's)."""
    return max(MIN_WORKBOOK_EPOCHS, min(WORKBOOK_FIT.epochs, -(-WORKBOOK_STEPS // max(steps, 1))))


class NamedRanges(Protocol):
    """A workbook as the contract needs it: a defined name's cells as a 2-D float array."""

    def numbers(self, name: str) -> np.ndarray: ...


def book_name(names: Any, name: str) -> str | None:
    """The name a workbook uses for a contract name (its former name in older workbooks), or None."""
    if name in names:
        return name
    former = FORMER_NAMES.get(name)
    return former if former is not None and former in names else None


@dataclass(frozen=True)
class WorkbookModel:
    """An LSTM as a workbook holds it, with its data."""

    params: LSTMParams
    center: np.ndarray  # (D,)
    scale: np.ndarray  # (D,)
    series: np.ndarray  # (T, D) raw
    history: np.ndarray  # (T_h, D) raw
    horizon: int
    season: int


def _where(source: Any) -> str:
    return str(getattr(source, "path", None) or getattr(source, "name", None) or "the workbook")


MAX_STEPS = 100_000  # rows of lstm_series: time steps the refresh computes
MAX_SEASON = SHEET_ROWS  # a season longer than a sheet means nothing
MAX_BLOCK_CELLS = 4_000_000  # cells of one block the model makes (states, forecast steps)


def _whole(where: str, name: str, v: np.ndarray, low: int, high: int) -> int:
    if v.shape != (1, 1) or v[0, 0] != int(v[0, 0]) or v[0, 0] < low:
        raise LSTMError(f"{where}: {name} must be one cell holding a whole number ≥ {low}, got {v.ravel()[:3]}")
    if v[0, 0] > high:
        raise LSTMError(f"{where}: {name} is {int(v[0, 0]):,}, over the limit of {high:,}")
    return int(v[0, 0])


def _shape(where: str, name: str, got: tuple[int, ...], want: tuple[int, int], why: str) -> None:
    if got != want:
        raise LSTMError(f"{where}: {name} must be {want[0]}×{want[1]} ({why}), got {got[0]}×{got[1]}")


def _check_work(where: str, what: str, rows: int, cols: int) -> None:
    """Refuse a block the model would make before making it: it must fit the cell budget."""
    if rows * cols > MAX_BLOCK_CELLS:
        raise LSTMError(
            f"{where}: {what} would be {rows:,}×{cols:,} = {rows * cols:,} cells, over the limit of {MAX_BLOCK_CELLS:,}"
        )


def read_model(source: NamedRanges, given: Mapping[str, np.ndarray] | None = None) -> WorkbookModel:
    """Weights, head, scaler and series from the defined names, with shapes checked against each other.

    ``given`` replaces some blocks' contents (new weights from training) before the checks.
    A source that can read many names at once (``xlsx.Book.numbers_of``: each sheet once)
    is asked for all of them together. Every size the model will compute with is checked
    before it does: steps, horizon, and the blocks it will make.
    """
    where = _where(source)
    fixed = {k: np.asarray(v, dtype=float) for k, v in (given or {}).items()}
    wanted = [n for n in INPUT_NAMES if n not in fixed]
    many = getattr(source, "numbers_of", None)
    got = dict(many(wanted)) if many is not None else {n: source.numbers(n) for n in wanted}
    got.update(fixed)
    b = got["lstm_b"]
    if 1 not in b.shape or b.size % 4:
        raise LSTMError(f"{where}: lstm_b must be one column of 4H cells, got {b.shape[0]}×{b.shape[1]}")
    H = b.size // 4
    W = got["lstm_W"]
    if W.shape[0] != 4 * H or W.shape[1] <= H:
        raise LSTMError(f"{where}: lstm_W must be 4H×(H+D) with H={H} (from lstm_b), got {W.shape[0]}×{W.shape[1]}")
    D = W.shape[1] - H
    W_y, b_y = got["lstm_W_y"], got["lstm_b_y"]
    _shape(where, "lstm_W_y", W_y.shape, (D, H), f"D×H with D={D}, H={H}")
    _shape(where, "lstm_b_y", b_y.shape, (D, 1), f"D×1 with D={D}")
    scaler = got["lstm_scaler"]
    _shape(where, "lstm_scaler", scaler.shape, (2, D), f"center and scale rows, D={D}")
    if np.any(scaler[1] == 0):
        raise LSTMError(f"{where}: lstm_scaler's scale row holds 0: it divides the data")
    series, history = got["lstm_series"], got["lstm_history"]
    if series.shape[1] != D or history.shape[1] != D:
        raise LSTMError(
            f"{where}: lstm_series and lstm_history must have D={D} columns, "
            f"got {series.shape[1]} and {history.shape[1]}"
        )
    if series.shape[0] > MAX_STEPS:
        raise LSTMError(
            f"{where}: lstm_series has {series.shape[0]:,} rows (time steps), over the limit of {MAX_STEPS:,}"
        )
    horizon = _whole(where, "lstm_horizon", got["lstm_horizon"], 1, MAX_HORIZON)
    season = _whole(where, "lstm_season", got["lstm_season"], 1, MAX_SEASON)
    _check_work(where, "the states table (steps × 6H)", series.shape[0], 6 * H)
    _check_work(where, "the forecast steps (horizon × (2D + 6H))", horizon, 2 * D + 6 * H)
    params = LSTMParams(W, b.ravel(), W_y, b_y.ravel())
    return WorkbookModel(params, scaler[0], scaler[1], series, history, horizon, season)


def model_blocks(model: Model) -> dict[str, np.ndarray]:
    """The input blocks a trained model fills: lstm_W, lstm_b, lstm_W_y, lstm_b_y, lstm_scaler.

    The sheets compute x = (value - center) / scale on the raw series, so a model
    trained with log or differencing cannot be written into them.
    """
    if model.log or model.diff or model.season:
        raise LSTMError(
            "a workbook's sheets scale the raw series only: fit without log, diff and season to write into one"
        )
    p = model.params
    blocks = [
        np.asarray(p.W),
        np.asarray(p.b)[:, None],
        np.asarray(p.W_y),
        np.asarray(p.b_y)[:, None],
        np.vstack([model.scaler.center, model.scaler.scale]),
    ]
    return dict(zip(TRAINED_NAMES, blocks, strict=True))


class XlwingsNames:
    """An open xlwings Book as ``NamedRanges``: read and write a defined name's cells."""

    def __init__(self, book: Any) -> None:
        self.book = book
        self.path = str(getattr(book, "name", "the workbook"))

    def _range(self, name: str) -> Any:
        for actual in (name, FORMER_NAMES.get(name)):
            if actual is None:
                continue
            try:
                return self.book.names[actual].refers_to_range
            except Exception:  # noqa: BLE001, S112  xlwings raises differently per runtime for a missing name
                continue
        raise LSTMError(f"{self.path}: no defined name {name}: is it made from the xl_lstm template?")

    def numbers(self, name: str) -> np.ndarray:
        """Checked as the worksheet functions check ranges: text, blanks and errors named by cell."""
        from ..excel.ranges import numbers

        cells = self._range(name).options(ndim=2).value
        try:
            return numbers(name, cells)
        except LSTMError as exc:
            raise LSTMError(f"{self.path}: {exc}") from None

    def write(self, name: str, values: np.ndarray) -> None:
        self._range(name).value = values

    def locate(self, name: str) -> tuple[str, CellRange]:
        """Where a defined name points (for ``blocks.check_places``): its sheet and cells."""
        from .xlsx import parse_range

        rng = self._range(name)
        sheet = str(rng.sheet.name).replace("'", "''")
        return name, parse_range(f"'{sheet}'!{rng.address}")
